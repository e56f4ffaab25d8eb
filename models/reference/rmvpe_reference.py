"""RMVPE's front end and decoder, executed from RVC's own published code (`inferrvc/rmvpe.py`, MIT),
for the Rust parity tests (engine/tests/rmvpe.rs). Prints JSON:

* `signals`: for each test signal, the 16 kHz audio, RVC's log-mel (`MelSpectrogram`, as
  `RMVPE.__init__` configures it, center=True), the salience the given "mel" form ONNX model gives
  for that mel, and RVC's `RMVPE.decode` of that salience (threshold 0.03);
* `salience_cases`: hand-made salience rows (peaks at the edge bins, a peak exactly at the
  threshold, ties) with RVC's decoded f0, at threshold 0.03.

    .cache/venv-models/bin/python models/reference/rmvpe_reference.py .cache/models/rvc/rmvpe_tiny_mel.onnx
"""

import json
import pathlib
import sys
import warnings

warnings.filterwarnings("ignore")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402

from rvc import rmvpe as R  # noqa: E402
from rvc.pitch_models import tone  # noqa: E402

THRESHOLD = 0.03


def signals() -> dict[str, np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(7))
    n = 16000
    glide = 150.0 * (400.0 / 150.0) ** (np.arange(n) / n)
    return {
        "tone_220": tone(220.0, n),
        "glide_150_400": tone(glide, n),
        "noise": (rng.standard_normal(12345) * 0.1).astype(np.float32),
        "short": tone(330.0, 700),
        "quiet": (tone(180.0, 4000) * 1e-4).astype(np.float32),
    }


def salience_cases() -> np.ndarray:
    rng = np.random.Generator(np.random.PCG64(11))
    rows = rng.uniform(0.0, 0.02, size=(10, R.BINS)).astype(np.float32)
    for row, peak in zip(rows, (0, 1, 3, 4, 180, 355, 358, 359)):
        row[peak] = 0.9
        row[max(peak - 1, 0)] = 0.5
    rows[8, 200] = THRESHOLD  # a peak exactly at the threshold is unvoiced (RVC: max <= thred)
    rows[9, 100] = rows[9, 300] = 0.7  # a tie: numpy's argmax takes the first
    return rows


def main() -> None:
    sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
    mel_extractor = R.rvc_mel_extractor()
    decoder = R.rvc_decoder()
    out = {"threshold": THRESHOLD, "signals": {}, "salience_cases": {}}
    for name, audio in signals().items():
        with torch.no_grad():
            mel = mel_extractor(torch.from_numpy(audio)[None, :], center=True)[0].numpy()  # [128, T]
        hidden = sess.run(None, {"mel": mel[None]})[0][0]  # [T, 360]
        f0 = decoder.decode(hidden, thred=THRESHOLD)
        out["signals"][name] = {"audio": audio.astype(np.float64).tolist(),
                                "log_mel": mel.astype(np.float64).tolist(),
                                "salience": hidden.astype(np.float64).tolist(),
                                "f0": np.asarray(f0, dtype=np.float64).tolist()}
    rows = salience_cases()
    out["salience_cases"] = {"salience": rows.astype(np.float64).tolist(),
                             "f0": np.asarray(decoder.decode(rows, thred=THRESHOLD), dtype=np.float64).tolist()}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
