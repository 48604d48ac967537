"""claimmatch clustering vs ``sentence_transformers.util.community_detection`` on 100k claims.

Both get the same float16-rounded MiniLM vectors and the same cosine threshold. claimmatch: FAISS index
(type chosen by size as ``index build`` does), k-NN candidate pairs, average-link grouping without
chaining, cluster table. community_detection: its CPU path with ``min_community_size=2`` (a duplicate
needs two claims); claims outside every community count as singletons. Reports both times, the speed-up,
and the agreement (adjusted Rand index over all claims, and over the claims either method put in a
cluster of two or more); also claimmatch with exact search, and how many of exact search's duplicate
pairs the approximate index finds.

    python -m benchmarks.bench_cluster --vectors-from INDEX_DIR [--n 100000] [--json docs/bench/cluster.json]

``INDEX_DIR`` is an index of real claims (e.g. the Reuters index that bench_index_build.py leaves); when
it holds fewer than ``--n`` claims, the rest are synthetic claims derived from them (benchmarks.results).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import polars as pl
import torch
from sentence_transformers.util import community_detection
from sklearn.metrics import adjusted_rand_score

from benchmarks.results import ROOT, emit, machine, peak_rss_mib, real_vectors, synthetic_blocks
from claimmatch.cluster import cluster_claims
from claimmatch.judge import CosineJudge
from claimmatch.store.faiss_build import build_faiss, choose_index_type, index_kind


def vectors_for(index_dir: Path, n: int) -> tuple[np.ndarray, int]:
    real = real_vectors(index_dir)
    take = min(n, len(real))
    parts = [np.asarray(real[:take], dtype=np.float32)]
    if n > take:
        parts += list(synthetic_blocks(real, n - take, seed=7))
    return np.ascontiguousarray(np.concatenate(parts)), take


def ours(vectors: np.ndarray, threshold: float, k: int, index_type: str) -> tuple[np.ndarray, dict, np.ndarray]:
    n = len(vectors)
    frame = pl.DataFrame({"claim_id": [f"c{i:07d}" for i in range(n)], "outlet": [f"o{i % 97}" for i in range(n)],
                          "text": [""] * n, "core": [""] * n})
    t0 = time.perf_counter()
    index = build_faiss(vectors, choose_index_type(n, index_type))
    t1 = time.perf_counter()
    res = cluster_claims(frame, vectors, index, CosineJudge(threshold), k=k)
    t2 = time.perf_counter()
    pairs = res.candidates.i * n + res.candidates.j
    return res.claims["cluster_id"].to_numpy(), {"index_type": index_kind(index), "index_s": round(t1 - t0, 2),
                                                   "cluster_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2),
                                                   "candidate_pairs": len(res.candidates)}, pairs


def theirs(vectors: np.ndarray, threshold: float) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    communities = community_detection(torch.from_numpy(vectors), threshold=threshold, min_community_size=2,
                                      batch_size=1024)
    seconds = time.perf_counter() - t0
    labels = np.arange(len(vectors)) + len(vectors)  # singletons: their own label
    for cid, members in enumerate(communities):
        labels[members] = cid
    return labels, seconds


def describe(labels: np.ndarray) -> dict:
    _, counts = np.unique(labels, return_counts=True)
    multi = counts[counts > 1]
    return {"clusters": int(len(counts)), "multi_member_clusters": int(len(multi)),
            "claims_in_multi": int(multi.sum()), "largest": int(counts.max())}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors-from", type=Path, required=True)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--threshold", type=float, default=0.80)
    ap.add_argument("--neighbors", type=int, default=10)
    ap.add_argument("--index-type", default="auto")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "cluster.json")
    args = ap.parse_args(argv)
    vectors, n_real = vectors_for(args.vectors_from, args.n)
    print(f"{len(vectors)} vectors ({n_real} real)", flush=True)
    ours_labels, ours_info, ours_pairs = ours(vectors, args.threshold, args.neighbors, args.index_type)
    print("claimmatch", ours_info, flush=True)
    exact_labels, exact_info, exact_pairs = ours(vectors, args.threshold, args.neighbors, "flat")
    print("claimmatch (flat)", exact_info, flush=True)
    their_labels, their_s = theirs(vectors, args.threshold)
    print(f"community_detection {their_s:.1f}s", flush=True)
    _, inverse, counts = np.unique(ours_labels, return_inverse=True, return_counts=True)
    either = (counts[inverse] > 1) | (their_labels < len(vectors))
    emit(path=args.json, data={
        "benchmark": "clustering vs sentence_transformers community_detection", "machine": machine(),
        "claims": len(vectors), "real_claims": n_real, "threshold": args.threshold, "neighbors": args.neighbors,
        "claimmatch": {**ours_info, **describe(ours_labels)},
        "claimmatch_flat": {**exact_info, **describe(exact_labels)},
        "community_detection": {"total_s": round(their_s, 2), "min_community_size": 2, **describe(their_labels)},
        "speedup": round(their_s / ours_info["total_s"], 1),
        "ari_all": round(adjusted_rand_score(their_labels, ours_labels), 4),
        "ari_clustered": round(adjusted_rand_score(their_labels[either], ours_labels[either]), 4),
        "ari_flat_vs_index": round(adjusted_rand_score(exact_labels, ours_labels), 4),
        "duplicate_pair_recall": round(float(np.isin(exact_pairs, ours_pairs).mean()) if len(exact_pairs) else 1.0, 4),
        "peak_rss_mib": peak_rss_mib(),
    })


if __name__ == "__main__":
    main()
