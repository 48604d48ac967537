"""Exact vs approximate FAISS indexes for claim vectors: time of the all-claims neighbour search that
clustering runs, and recall@10 against exact search, by corpus size. Picks the break-even for ``auto``.

    python -m benchmarks.bench_index_types --vectors-from INDEX_DIR [--sizes 5000,10000,...] [--json ...]

Vectors: the real claims of ``INDEX_DIR`` (bench_index_build.py's Reuters index), topped up with synthetic
claims derived from them (benchmarks.results) for sizes beyond it. The search over all claims is timed in full up to
50k vectors; above, on 20k evenly spaced queries and scaled (its cost is linear in the number of queries).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import faiss
import numpy as np

import claimmatch.store.faiss_build as index_mod
from benchmarks.results import ROOT, emit, machine, peak_rss_mib, real_vectors, synthetic_blocks
from claimmatch.store.faiss_build import build_faiss, ivf_nlist, search

K = 10


def recall(approx: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a[a >= 0]) & set(e)) / len(e) for a, e in zip(approx, exact, strict=True)]))


def timed_self_search(index, vectors: np.ndarray, cap: int | None = None) -> float:
    n = len(vectors)
    q = vectors if cap is None or n <= cap else vectors[np.linspace(0, n - 1, cap).astype(np.int64)]
    t0 = time.perf_counter()
    search(index, q, K + 1)
    return (time.perf_counter() - t0) * n / len(q)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors-from", type=Path, required=True)
    ap.add_argument("--sizes", default="10000,25000,50000,100000,200000")
    ap.add_argument("--nprobes", default="8,16,32")
    ap.add_argument("--list-factors", default="1,2", help="IVF lists per sqrt(n) to try")
    ap.add_argument("--others-at", type=int, default=100_000, help="size at which ivf-pq and hnsw are measured too")
    ap.add_argument("--no-flat-timing", action="store_true", help="skip timing exact search over all claims")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "index_types.json")
    args = ap.parse_args(argv)
    real = real_vectors(args.vectors_from)
    sizes = [int(s) for s in args.sizes.split(",")]
    top = max(sizes)
    base = np.asarray(real[:min(top, len(real))], dtype=np.float32)
    if top > len(base):
        base = np.concatenate([base, *synthetic_blocks(real, top - len(base), seed=11)])
    rows = []
    for n in sizes:
        vecs = np.ascontiguousarray(base[:n])
        sample = vecs[np.linspace(0, n - 1, min(n, 2000)).astype(np.int64)]
        t0 = time.perf_counter()
        flat = build_faiss(vecs, "flat")
        flat_build = time.perf_counter() - t0
        flat_search = 0.0 if args.no_flat_timing else timed_self_search(flat, vecs, cap=None if n <= 50_000 else 20_000)
        exact = search(flat, sample, K)[1]
        row = {"n": n, "real": min(n, len(real)), "flat_build_s": round(flat_build, 3),
               "flat_all_knn_s": round(flat_search, 2), "flat_total_s": round(flat_build + flat_search, 2)}
        factors = [float(f) for f in args.list_factors.split(",")]
        kinds = [("ivf-sq8", f) for f in factors]
        kinds += [("ivf-pq", factors[0]), ("hnsw", None)] if n == args.others_at else []
        for kind, factor in kinds:
            if factor is not None:
                index_mod.LISTS_PER_SQRT = factor
            t0 = time.perf_counter()
            index = build_faiss(vecs, kind)
            build = time.perf_counter() - t0
            probes = [int(p) for p in args.nprobes.split(",")] if kind.startswith("ivf") else [None]
            for nprobe in probes:
                inner = faiss.downcast_index(index)
                if nprobe is not None:
                    inner.nprobe = min(nprobe, inner.nlist)
                all_knn = timed_self_search(index, vecs, cap=None if n <= 50_000 else 20_000)
                rec = recall(search(index, sample, K)[1], exact)
                key = f"{kind}" + (f" x{factor:g}" if factor else "") + (f" @{nprobe}" if nprobe else "")
                row[key] = {"build_s": round(build, 2), "all_knn_s": round(all_knn, 2),
                            "total_s": round(build + all_knn, 2), "recall@10": round(rec, 4),
                            "nlist": ivf_nlist(n) if kind.startswith("ivf") else None,
                            "bytes_per_vector": round(faiss.serialize_index(index).nbytes / n, 1)}
        print(row, flush=True)
        rows.append(row)
    emit(path=args.json, data={"benchmark": "index types by size", "machine": machine(), "k": K, "rows": rows,
                     "peak_rss_mib": peak_rss_mib()})


if __name__ == "__main__":
    main()
