"""Writes the voice graph templates the engine builds `.pth` voices with (see rvc/voice_template.py)
into engine/templates/, or checks that the committed ones are what RVC's code exports today.

One template per RVC configuration users have: v1 and v2, 32k, 40k and 48k, with and without f0
(twelve), plus the tiny test voices' (the engine builds those too, so the tests can load a
generated `.pth` like a user's); and RMVPE's, for RVC's `rmvpe.pt` (rvc/rmvpe_template.py), full
and tiny; and HuBERT's units form under fairseq's names, for RVC's `hubert_base.pt`
(rvc/hubert_template.py), full and tiny. Each is gzipped (mtime 0, so the bytes are stable).

    .cache/venv-models/bin/python models/generate_templates.py [--check] [--only tiny]
"""

from __future__ import annotations

import argparse
import gzip
import pathlib
import sys
import time
import warnings

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE.parent / "engine" / "templates"
warnings.filterwarnings("ignore", category=FutureWarning, message=".*weight_norm.*")
sys.path.insert(0, str(HERE))


def configs():
    from rvc.configs import SynthConfig
    full = [SynthConfig(version=v, sr=sr, f0=f0) for v in ("v1", "v2") for sr in (32000, 40000, 48000)
            for f0 in (True, False)]
    tiny = [SynthConfig(version="v2", sr=40000, f0=True, size="tiny"),
            SynthConfig(version="v1", sr=48000, f0=True, size="tiny"),
            SynthConfig(version="v2", sr=32000, f0=False, size="tiny")]
    from rvc.rmvpe import RmvpeConfig
    # RVC's rmvpe.pt, and the tests' tiny RMVPE.
    rmvpe = [RmvpeConfig("full"), RmvpeConfig("tiny")]
    # RVC's hubert_base.pt (fairseq's layout), and the tests' tiny encoder.
    from rvc.content_encoder import EncoderConfig
    hubert = [EncoderConfig("full"), EncoderConfig("tiny")]
    return full + tiny + rmvpe + hubert


def template_stem(cfg) -> str:
    from rvc.content_encoder import EncoderConfig
    if isinstance(cfg, EncoderConfig):
        return "hubert_base" if cfg.size == "full" else "hubert_base_tiny"
    return cfg.stem


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    parser.add_argument("--only", help="a substring of the file names to handle, e.g. tiny")
    args = parser.parse_args()

    import torch
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    from rvc import hubert_template, rmvpe_template, voice_template
    from rvc.content_encoder import EncoderConfig
    from rvc.rmvpe import RmvpeConfig

    OUT.mkdir(parents=True, exist_ok=True)
    stale = []
    for cfg in configs():
        name = f"{template_stem(cfg)}.template.onnx.gz"
        if args.only and args.only not in name:
            continue
        started = time.time()
        if isinstance(cfg, RmvpeConfig):
            proto = rmvpe_template.template(cfg)
        elif isinstance(cfg, EncoderConfig):
            proto = hubert_template.template(cfg)
        else:
            proto = voice_template.template(cfg)
        data = gzip.compress(proto.SerializeToString(), compresslevel=9, mtime=0)
        path = OUT / name
        same = path.is_file() and path.read_bytes() == data
        if args.check:
            if not same:
                stale.append(name)
            print(f"  {'same ' if same else 'STALE'}  {name}  ({time.time() - started:.1f} s)")
        else:
            if not same:
                path.write_bytes(data)
            print(f"  {'same ' if same else 'wrote'}  {name}  {len(data) / 1e3:.0f} kB  ({time.time() - started:.1f} s)")
    if stale:
        print(f"{len(stale)} committed template(s) differ from RVC's export; regenerate with "
              "`.cache/venv-models/bin/python models/generate_templates.py` and commit engine/templates/")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
