"""Retrieval-index fixtures, written by faiss itself the way RVC's train_index.py writes them.

For each readable index NAME.index this also writes what faiss reads back from it, for the
engine's reader to match exactly: NAME.vectors.f32 (index.reconstruct_n(0, ntotal), RVC's
big_npy), NAME.centroids.f32 (the coarse quantizer's centres) and NAME.json (sizes, nprobe, the
ids in each list, and how the file stores the list sizes). Files faiss writes that RVC Live must
refuse come without them. For the searchable ones it also writes queries and what faiss's
`search` returns for them (NAME.search.json: with the file's nprobe and with every list probed),
RVC's blend of those results (NAME.blended.f32), and RVC's Protect on made-up frames
(protect.json): the references the engine's retrieval must match. Deterministic: fixed seeds; rewritten on every run (it takes a second).
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


# RVC's Index Rate in the blend reference; any value between 0 and 1 exercises the formula.
BLEND_RATE = 0.75
# RVC's default Protect, for the Protect reference.
PROTECT = 0.33


def rvc_blend(index: faiss.Index, big_npy: np.ndarray, feats: np.ndarray, rate: float) -> np.ndarray:
    """RVC's real-time retrieval (infer/rtrvc.py), line for line."""
    score, ix = index.search(feats, k=8)
    assert (ix >= 0).all(), "RVC skips the index when a neighbour is missing"
    weight = np.square(1 / score)
    weight /= weight.sum(axis=1, keepdims=True)
    npy = np.sum(big_npy[ix] * np.expand_dims(weight, axis=2), axis=1)
    return npy * rate + (1 - rate) * feats


def write_search_reference(index: faiss.Index, out: Path, name: str, queries: np.ndarray, blend: bool) -> None:
    ivf = faiss.extract_index_ivf(index)
    queries.astype("<f4").tofile(out / f"{name}.queries.f32")
    results = {}
    for label, nprobe in [("stored", ivf.nprobe), ("exact", ivf.nlist)]:
        params = faiss.SearchParametersIVF(nprobe=nprobe)
        distances, ids = index.search(queries, 8, params=params)
        results[label] = {"nprobe": nprobe, "ids": ids.tolist(), "distances": distances.tolist()}
    (out / f"{name}.search.json").write_text(json.dumps(results))
    if blend:
        big_npy = ivf.reconstruct_n(0, ivf.ntotal)
        rvc_blend(index, big_npy, queries, BLEND_RATE).astype("<f4").tofile(out / f"{name}.blended.f32")


def write_protect_reference(rng: np.random.Generator, out: Path) -> None:
    """RVC's Protect (infer/modules/vc/pipeline.py) on frames with voiced, unvoiced and
    sub-1-Hz pitch, in float32 as torch computes it."""
    frames, width = 12, 16
    feats = rng.standard_normal((frames, width)).astype(np.float32)
    feats0 = rng.standard_normal((frames, width)).astype(np.float32)
    pitchf = np.array([0, 120, 0, 0.5, 440, 0, 1, 0.99, 0, 200, 0, 0], np.float32)
    pitchff = pitchf.copy()
    pitchff[pitchf > 0] = 1
    pitchff[pitchf < 1] = PROTECT
    pitchff = pitchff[:, None]
    protected = feats * pitchff + feats0 * (1 - pitchff)
    facts = {"protect": PROTECT, "width": width, "pitchf": pitchf.tolist(), "feats": feats.ravel().tolist()}
    facts.update(feats0=feats0.ravel().tolist(), protected=protected.ravel().tolist())
    (out / "protect.json").write_text(json.dumps(facts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(20261201)

    # A v1-wide index with every list in use: faiss stores all sizes ("full").
    train = features(rng, 3000, 256)
    v1 = ivf_flat(256, 24, train, train, nprobe=1)
    write_with_readback(v1, out, "ivf_flat_v1_full", "full")
    write_search_reference(v1, out, "ivf_flat_v1_full", features(rng, 40, 256), blend=True)

    # A v2-wide index with more lists than vectors: only the non-empty ones are sized ("sprs").
    # A few training vectors from across the clusters, so several lists hold some.
    train = features(rng, 4000, 768)
    added = train[rng.choice(len(train), 12, replace=False)]
    v2 = ivf_flat(768, 64, train, added, nprobe=4)
    write_with_readback(v2, out, "ivf_flat_v2_sparse", "sprs")
    # Probing four of 64 lists mostly finds fewer than eight of the twelve vectors: faiss pads
    # with id -1, where RVC gives up on the index, so there is no blend reference here. Two
    # queries are stored vectors themselves (distance 0).
    queries = np.concatenate([features(rng, 20, 768), added[:2]])
    write_search_reference(v2, out, "ivf_flat_v2_sparse", queries, blend=False)

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
    write_protect_reference(rng, out)
    print(f"wrote the retrieval-index fixtures to {out}")


if __name__ == "__main__":
    main()
