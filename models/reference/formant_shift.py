"""RVC's formant shift on a tiny voice, for the Rust parity test (`engine/tests/formant_parity.rs`).

Runs the steps of RVC's real-time `infer` (`infer/rtrvc.py`, 2024+) around the synthesizer, as RVC
writes them: `factor = pow(2, formant / 12)`, `return_length2 = int(np.ceil(return_length *
factor))`, the pitch given to the voice scaled by `return_length2 / return_length`, the voice's
`infer(..., skip_head, return_length, return_length2)` (here the eager reference of RVC's partial
decoding, `rvc.export_partial.reference`, with the NSF source's random draws removed), and the
render read at `upp_res = int(np.floor(factor * tgt_sr // 100))` samples per frame through
`torchaudio.transforms.Resample(upp_res, tgt_sr // 100)`. Prints JSON: the inputs and, per
formant shift, the samples RVC hands on.

    .cache/venv-models/bin/python models/reference/formant_shift.py .cache/models/rvc/rvc_v2_40k_tiny.pth
"""

import json
import pathlib
import sys

import numpy as np
import torch
from torchaudio.transforms import Resample

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from rvc import export_partial, synthesizer as S  # noqa: E402

FRAMES, SKIP_HEAD, RETURN_LENGTH = 64, 30, 20
# Up, down, far up; a small cut that does not change the decoded length but does the samples
# per frame (-0.5 st at 20 frames), and a small lift that changes the length but not the samples
# per frame (0.02 st at 40 kHz).
SHIFTS = [0.0, 2.0, -1.5, 5.5, -0.5, 0.02]


def rvc_formant_render(model, cfg, inputs: dict, formant_shift: float) -> np.ndarray:
    tgt_sr = cfg.sr
    return_length = RETURN_LENGTH
    factor = pow(2, formant_shift / 12)
    return_length2 = int(np.ceil(return_length * factor))
    t = {k: torch.from_numpy(v) for k, v in inputs.items()}
    cache_pitchf = t["pitchf"] * return_length2 / return_length
    infered_audio = export_partial.reference(model, cfg, t["feats"], t["lengths"], t["pitch"], cache_pitchf, t["sid"],
                                             SKIP_HEAD, return_length, return_length2)[None]
    upp_res = int(np.floor(factor * tgt_sr // 100))
    if upp_res != tgt_sr // 100:
        infered_audio = Resample(orig_freq=upp_res, new_freq=tgt_sr // 100, dtype=torch.float32)(
            infered_audio[:, : return_length * upp_res])
    return infered_audio.squeeze().numpy()


def main() -> None:
    model, cfg = S.load_checkpoint(sys.argv[1])
    S.make_deterministic(model)
    inputs = S.make_inputs(cfg, FRAMES, seed=FRAMES)
    print(json.dumps({
        "frames": FRAMES, "skip_head": SKIP_HEAD, "return_length": RETURN_LENGTH,
        "feats": inputs["feats"].ravel().tolist(), "pitch": inputs["pitch"].ravel().tolist(),
        "pitchf": inputs["pitchf"].ravel().tolist(),
        "shifts": [{"formant": s, "audio": rvc_formant_render(model, cfg, inputs, s).tolist()} for s in SHIFTS],
    }))


if __name__ == "__main__":
    main()
