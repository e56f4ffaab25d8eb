"""Retrieval-index fixtures, written by faiss itself the way RVC's train_index.py writes them.

For each readable index NAME.index this also writes what faiss reads back from it, for the
engine's reader to match exactly: NAME.vectors.f32 (index.reconstruct_n(0, ntotal), RVC's
big_npy), NAME.centroids.f32 (the coarse quantizer's centres) and NAME.json (sizes, nprobe, the
ids in each list, and how the file stores the list sizes). Files faiss writes that RVC Live must
refuse come without them. Deterministic: fixed seeds; rewritten on every run (it takes a second).
"""

import argparse
import json
from pathlib import Path

import faiss
import numpy as np


def features(rng: np.random.Generator, count: int, dim: int) -> np.ndarray:
    # Clustered like content features: a few hundred centres with spread around them.
    centres = rng.standard_normal((32, dim)).astype(np.float32)
    picks = rng.integers(0, len(centres), count)
    return (centres[picks] + 0.3 * rng.standard_normal((count, dim))).astype(np.float32)


def size_encoding(path: Path) -> str:
    """How the file stores its list sizes: the fourcc after the inverted lists' header."""
    data = path.read_bytes()
    at = data.index(b"ilar")
    return data[at + 20 : at + 24].decode()


def ivf_flat(dim: int, nlist: int, train: np.ndarray, add: np.ndarray, nprobe: int) -> faiss.Index:
    # RVC's train_index.py: index_factory(dim, "IVF{n},Flat"), trained, nprobe set, vectors added.
    index = faiss.index_factory(dim, f"IVF{nlist},Flat")
    index.train(train)
    faiss.extract_index_ivf(index).nprobe = nprobe
    if len(add):
        index.add(add)
    return index


def write_with_readback(index: faiss.Index, out: Path, name: str, expected_encoding: str) -> None:
    path = out / f"{name}.index"
    faiss.write_index(index, str(path))
    read_back = faiss.read_index(str(path))  # kept alive: `ivf` points into it
    ivf = faiss.extract_index_ivf(read_back)
    encoding = size_encoding(path)
    assert encoding == expected_encoding, f"{name}: faiss stored the sizes as {encoding}"
    ivf.reconstruct_n(0, ivf.ntotal).astype("<f4").tofile(out / f"{name}.vectors.f32")
    ivf.quantizer.reconstruct_n(0, ivf.nlist).astype("<f4").tofile(out / f"{name}.centroids.f32")
    lists = []
    for n in range(ivf.nlist):
        size = ivf.invlists.list_size(n)
        ids = faiss.rev_swig_ptr(ivf.invlists.get_ids(n), size) if size else []
        lists.append([int(i) for i in ids])
    facts = {"dim": ivf.d, "ntotal": ivf.ntotal, "nlist": ivf.nlist, "nprobe": ivf.nprobe}
    facts.update(lists=lists, size_encoding=encoding)
    (out / f"{name}.json").write_text(json.dumps(facts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(20261201)

    # A v1-wide index with every list in use: faiss stores all sizes ("full").
    train = features(rng, 3000, 256)
    write_with_readback(ivf_flat(256, 24, train, train, nprobe=1), out, "ivf_flat_v1_full", "full")

    # A v2-wide index with more lists than vectors: only the non-empty ones are sized ("sprs").
    # A few training vectors from across the clusters, so several lists hold some.
    train = features(rng, 4000, 768)
    added = train[rng.choice(len(train), 12, replace=False)]
    write_with_readback(ivf_flat(768, 64, train, added, nprobe=4), out, "ivf_flat_v2_sparse", "sprs")

    # What RVC writes first and users sometimes pick: trained, but holding no vectors.
    faiss.write_index(ivf_flat(256, 24, features(rng, 3000, 256), np.empty((0, 256), np.float32), 1),
                      str(out / "trained_ivf_flat.index"))

    # Other index types met in the wild, to be refused by name.
    pq = faiss.index_factory(256, "IVF8,PQ16x4")
    data = features(rng, 2000, 256)
    pq.train(data)
    pq.add(data)
    faiss.write_index(pq, str(out / "ivf_pq.index"))
    inner = faiss.index_factory(256, "IVF8,Flat", faiss.METRIC_INNER_PRODUCT)
    inner.train(data)
    inner.add(data)
    faiss.write_index(inner, str(out / "ivf_flat_inner_product.index"))
    print(f"wrote the retrieval-index fixtures to {out}")


if __name__ == "__main__":
    main()
