#!/usr/bin/env python3
"""The benchmark's retrieval index: ``--vectors`` v2-wide (768) features, indexed exactly as RVC's
``train_index.py`` indexes a voice's training features: ``n_ivf = min(int(16·√N), N // 39)`` lists,
``index_factory(768, "IVF{n_ivf},Flat")``, trained on the features, ``nprobe = 1``, the features
added in batches of 8192, written with faiss itself.

The features are clustered like content features (a few hundred centres with spread around them),
so the lists fill as unevenly as a real voice's do; a search costs the same whatever they hold.
Deterministic (fixed seed); skipped when the file exists.
"""

import argparse
from pathlib import Path

import faiss
import numpy as np

WIDTH = 768


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--vectors", type=int, required=True)
    args = parser.parse_args()
    if args.out.is_file():
        print(f"{args.out} is up to date")
        return
    rng = np.random.default_rng(20261201)
    count = args.vectors
    centres = rng.standard_normal((300, WIDTH)).astype(np.float32)
    picks = rng.integers(0, len(centres), count)
    feats = (centres[picks] + 0.5 * rng.standard_normal((count, WIDTH))).astype(np.float32)
    n_ivf = min(int(16 * np.sqrt(count)), count // 39)
    index = faiss.index_factory(WIDTH, f"IVF{n_ivf},Flat")
    faiss.extract_index_ivf(index).nprobe = 1
    index.train(feats)
    for start in range(0, count, 8192):
        index.add(feats[start : start + 8192])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_suffix(".partial")
    faiss.write_index(index, str(partial))
    partial.rename(args.out)
    print(f"wrote {args.out}: {count} vectors in {n_ivf} lists")


if __name__ == "__main__":
    main()
