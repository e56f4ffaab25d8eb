"""RVC's content-feature framing, executed from RVC's own published code (inferrvc, MIT).

Runs `Pipeline.vc` from inferrvc's `pipeline.py` on silent audio of many lengths, with a stub
HuBERT whose `extract_features` returns ContentVec's frame count for the audio (`(N-400)//320 + 1`,
checked here against the real conv front end in `contentvec_tiny_units.onnx`) and whose values
carry each frame's index, and a stub `net_g` whose `infer` records the `feats`, `p_len`, `pitch`
and `pitchf` RVC hands it. Prints JSON for the Rust parity test
(`engine/tests/content_framing_parity.rs`):

    {"cases": [{"n", "version", "encoder_frames", "p_len", "source", "pitch"}],
     "onnx": [{"n", "frames"}]}

`source[i]` is the encoder frame synthesizer frame i came from; `pitch[i]` the pitch frame RVC
passed with it.

`inferrvc.pipeline` cannot be imported as it is here: the package's `__init__` needs faiss, the
module imports parselmouth and pyworld (not installed) and moves filter taps to `cuda:0` at import.
So, like `f0_post.py`, this reads the module with `ast` and executes its `Pipeline` class
unchanged, with the module's own names that `vc` uses.

    .cache/venv-models/bin/python models/reference/content_framing.py
"""

import ast
import importlib.util
import json
import pathlib
import sys
import types
from time import time as ttime

import numpy as np
import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENCODER = ROOT / ".cache/models/rvc/contentvec_tiny_units.onnx"


def rvc_pipeline_class() -> type:
    path = pathlib.Path(importlib.util.find_spec("inferrvc").origin).parent / "pipeline.py"
    tree = ast.parse(path.read_text())
    pipeline = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Pipeline")
    module = ast.Module(body=[pipeline], type_ignores=[])
    namespace = {
        "__name__": "inferrvc_pipeline",
        "torch": torch,
        "F": F,
        "np": np,
        "ttime": ttime,
        "_cpu": torch.device("cpu"),
        "logger": None,
    }
    exec(compile(module, str(path), "exec"), namespace)
    return namespace["Pipeline"]


def contentvec_frames(samples: int) -> int:
    return (samples - 400) // 320 + 1


class StubHubert:
    """HuBERT-shaped: `extract_features` gives ContentVec's frame count; frame t holds t in every
    channel (channel c adds c/1024, exact in float32, so a channel mix-up would show)."""

    def __init__(self, width: int):
        self.width = width

    def extract_features(self, source, padding_mask, output_layer):
        frames = contentvec_frames(source.shape[1])
        index = torch.arange(frames, dtype=torch.float32)[:, None]
        channel = torch.arange(self.width, dtype=torch.float32)[None, :] / 1024.0
        return ((index + channel)[None], None)

    def final_proj(self, x):
        return x


class StubNetG:
    def __init__(self):
        self.calls = []

    def infer(self, *args):
        self.calls.append(args)
        return (torch.zeros(1, 1, 1),)


def decode_sources(feats: torch.Tensor) -> list[int]:
    feats = feats[0]
    index = torch.round(feats[:, 0]).to(torch.int64)
    width = feats.shape[1]
    expected = index[:, None].float() + torch.arange(width, dtype=torch.float32)[None, :] / 1024.0
    assert torch.equal(feats, expected), "features were not copied whole from one encoder frame"
    return index.tolist()


def run_vc(pipeline, samples: int, version: str) -> dict:
    width = 256 if version == "v1" else 768
    net_g = StubNetG()
    frames16 = samples // 160
    # Pitch as RVC's `pipeline` slices it for one segment: one value per 10 ms, all voiced, frame
    # index in the coarse pitch.
    pitch = torch.arange(frames16, dtype=torch.int64)[None]
    pitchf = torch.arange(frames16, dtype=torch.float32)[None] + 100.0
    pipeline.vc(
        StubHubert(width), net_g, torch.tensor([0]), torch.zeros(1, samples), pitch, pitchf,
        [0.0, 0.0, 0.0], None, None, 0.0, version, 0.33,
    )
    (feats, p_len, got_pitch, got_pitchf, _sid), = net_g.calls
    p_len = int(p_len.item())
    assert feats.shape[1] >= p_len
    assert torch.equal(got_pitchf, got_pitch.float() + 100.0)
    return {
        "n": samples,
        "version": version,
        "encoder_frames": contentvec_frames(samples),
        "p_len": p_len,
        # The synthesizer reads `p_len` frames of `feats`; RVC's interpolate gives 2x frames.
        "feats_frames": int(feats.shape[1]),
        "source": decode_sources(feats[:, :p_len]),
        "pitch": got_pitch[0].tolist(),
    }


def onnx_frames(lengths: list[int]) -> list[dict]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4  # the refusals below one field are expected; keep stderr quiet
    session = ort.InferenceSession(str(ENCODER), options, providers=["CPUExecutionProvider"])
    rows = []
    for n in lengths:
        try:
            outputs = session.run(None, {"audio": np.zeros((1, n), np.float32)})
            counts = {o.shape[1] for o in outputs}
            assert len(counts) == 1, counts
            frames = counts.pop()
        except Exception:  # noqa: BLE001 - ONNX Runtime refuses audio shorter than one field
            frames = 0
        expected = contentvec_frames(n) if n >= 400 else 0
        assert frames == expected, f"{n} samples: ONNX gives {frames} frames, the rule {expected}"
        rows.append({"n": n, "frames": frames})
    return rows


def main() -> None:
    config = types.SimpleNamespace(x_pad=1, x_query=6, x_center=38, x_max=41, is_half=False, device="cpu")
    pipeline = rvc_pipeline_class()(40000, config)
    assert pipeline.window == 160 and pipeline.sr == 16000

    # The framing repeats every 320 samples, so: every length from one field to 6 800 samples
    # (20 periods), then every 11th length and both sides of each multiple of 80 (where the
    # encoder's and the synthesizer's frame counts step) up to 20 000 samples (1.25 s), plus a
    # few block sizes RVC's real-time GUI uses. v2 (no projection) and v1 (`final_proj`) alike.
    lengths = set(range(400, 6_801))
    lengths |= set(range(6_800, 20_001, 11))
    lengths |= {m + d for m in range(6_800, 20_001, 80) for d in (-1, 0, 1)}
    lengths |= {40_960, 41_120, 48_000, 64_000}
    cases = [run_vc(pipeline, n, version) for version in ("v2", "v1") for n in sorted(lengths)]

    onnx = sorted({399, 400, 401, 479, 480, 639, 640, 719, 720, 721, 1039, 1040, 1041, 1360, 3333,
                   12_960, 16_000, 16_079, 16_080, 19_999, 20_000} | set(range(400, 2_000, 53)))
    print(json.dumps({"cases": cases, "onnx": onnx_frames(onnx)}, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(main())
