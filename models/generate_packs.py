"""Writes voice packs as users download them, and packs an importer must refuse, into --out.

Made from the tiny voice (`rvc/rvc_v2_40k_tiny.pth`) and a v2-wide index
(`index/ivf_flat_v2_sparse.index`) that the other generators wrote into --models. Python's
standard library only; deterministic (fixed timestamps).

* `subfolder.zip`: `Tiny Tenor/tiny_tenor.pth`, RVC's `added_…` and `trained_…` indexes, a
  readme, a trainer's `D_…`/`G_…` checkpoints and the `__MACOSX` resource forks a Mac adds;
* `flat.zip`: `alto.pth` and `alto.index` at the top;
* `escape.zip`, `absolute.zip`, `link.zip`: an entry that leaves the folder with `../`, one with
  an absolute path, one that is a symbolic link;
* `bomb.zip`: the voice and 256 MB of zeros deflated to a few hundred kB;
* `no_voice.zip`: an index and a readme only;
* `not_a_voice.zip`: a `.pth` that is no RVC voice.

    python models/generate_packs.py --models .cache/models --out .cache/models/packs
"""

from __future__ import annotations

import argparse
import io
import pathlib
import sys
import zipfile

STAMP = (2024, 5, 1, 12, 0, 0)


def entry(name: str, mode: int = 0o644, compress: int = zipfile.ZIP_DEFLATED) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=STAMP)
    info.compress_type = compress
    info.external_attr = mode << 16
    info.create_system = 3  # unix, so the mode (and a link's type) is read
    return info


def write_pack(path: pathlib.Path, entries: list[tuple[zipfile.ZipInfo, bytes]]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info, data in entries:
            z.writestr(info, data)
    path.write_bytes(buf.getvalue())
    print(f"  wrote {path.name}  {len(buf.getvalue()) / 1e6:.2f} MB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", type=pathlib.Path, required=True)
    parser.add_argument("--out", type=pathlib.Path, required=True)
    args = parser.parse_args()
    voice = (args.models / "rvc" / "rvc_v2_40k_tiny.pth").read_bytes()
    other = (args.models / "rvc" / "rvc_v2_40k_tiny_not_a_voice.pth").read_bytes()
    index = (args.models / "index" / "ivf_flat_v2_sparse.index").read_bytes()
    trained = (args.models / "index" / "trained_ivf_flat.index").read_bytes()
    readme = b"Tiny Tenor, 300 epochs. Use index rate 0.75.\n"
    args.out.mkdir(parents=True, exist_ok=True)
    stored = zipfile.ZIP_STORED

    write_pack(args.out / "subfolder.zip", [
        (entry("Tiny Tenor/", 0o40755), b""),
        (entry("Tiny Tenor/tiny_tenor.pth", compress=stored), voice),
        (entry("Tiny Tenor/added_IVF64_Flat_nprobe_4_tiny_tenor_v2.index"), index),
        (entry("Tiny Tenor/trained_IVF64_Flat_nprobe_4_tiny_tenor_v2.index"), trained),
        (entry("Tiny Tenor/README.txt"), readme),
        (entry("Tiny Tenor/G_2400.pth", compress=stored), voice[: len(voice) // 3]),
        (entry("Tiny Tenor/D_2400.pth", compress=stored), voice + voice),
        (entry("__MACOSX/Tiny Tenor/._tiny_tenor.pth"), b"\0\5\26\7resource fork"),
    ])
    write_pack(args.out / "flat.zip", [(entry("alto.pth"), voice), (entry("alto.index"), index)])
    write_pack(args.out / "escape.zip", [(entry("voice.pth"), voice), (entry("../escaped.index"), index)])
    write_pack(args.out / "absolute.zip", [(entry("/tmp/rvc-live-absolute.pth"), voice)])
    write_pack(args.out / "link.zip", [(entry("voice.pth", 0o120777), b"/etc/passwd")])
    write_pack(args.out / "bomb.zip", [(entry("voice.pth"), voice), (entry("padding.bin"), bytes(256 << 20))])
    write_pack(args.out / "no_voice.zip", [(entry("voice.index"), index), (entry("README.txt"), readme)])
    write_pack(args.out / "not_a_voice.zip", [(entry("model.pth"), other)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
