"""Clustering at scale: the sum-based grouping equals the direct average-link rule, on memmaps too."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from claimmatch import cluster as cluster_mod
from claimmatch.cluster import Candidates, cluster_claims, group, retrieve_pairs, summarize
from claimmatch.judge import CosineJudge, Judgement
from claimmatch.store import build_faiss


def reference_group(vectors: np.ndarray, cand: Candidates, verdict: Judgement, threshold: float) -> np.ndarray:
    """The foundation's grouping, verbatim in behaviour: full cross matrices per merge attempt."""
    parent = list(range(len(vectors)))
    members = {i: [i] for i in range(len(vectors))}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    link = {(i, j): s for i, j, s in zip(cand.i.tolist(), cand.j.tolist(), verdict.link_sim.tolist(), strict=True)}
    vetoed = {(i, j) for i, j, v in zip(cand.i.tolist(), cand.j.tolist(), verdict.veto.tolist(), strict=True) if v}
    order = sorted((-float(s), int(i), int(j)) for i, j, s, ok in
                   zip(cand.i, cand.j, verdict.link_sim, verdict.same, strict=True) if ok)
    for _, i, j in order:
        ra, rb = find(i), find(j)
        if ra == rb:
            continue
        ma, mb = members[ra], members[rb]
        if any((min(x, y), max(x, y)) in vetoed for x in ma for y in mb):
            continue
        cross = vectors[ma] @ vectors[mb].T
        for ai, x in enumerate(ma):
            for bi, y in enumerate(mb):
                if (min(x, y), max(x, y)) in link:
                    cross[ai, bi] = link[(min(x, y), max(x, y))]
        if float(cross.mean()) >= threshold - 1e-6:
            ra, rb = sorted((ra, rb))
            parent[rb] = ra
            members[ra].extend(members.pop(rb))
    return np.array([find(i) for i in range(len(vectors))], dtype=np.int64)


def topical_vectors(n: int, dim: int = 32, topics: int = 40, noise: float = 0.35, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(topics, dim))
    c /= np.linalg.norm(c, axis=1, keepdims=True)
    v = c[rng.integers(0, topics, n)] + noise * rng.normal(size=(n, dim)) / np.sqrt(dim)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sum_based_grouping_equals_the_direct_rule(seed: int):
    vecs = topical_vectors(600, seed=seed)
    cand = retrieve_pairs(build_faiss(vecs), vecs, 12, 0.6)
    rng = np.random.default_rng(seed)
    # An NLI-like judge: some borderline pairs linked at the threshold, some strong pairs vetoed.
    link = cand.sim.copy()
    borderline = (cand.sim < 0.85) & (rng.random(len(cand)) < 0.3)
    link[borderline] = 0.85
    veto = rng.random(len(cand)) < 0.05
    verdict = Judgement(same=(link >= 0.85) & ~veto, link_sim=link, veto=veto)
    expected = reference_group(vecs, cand, verdict, 0.85)
    got = group(vecs, cand, verdict, 0.85)
    assert np.array_equal(got, expected)
    assert len(set(got.tolist())) < len(vecs) - 50  # the case is not trivial: many merges happened


def test_grouping_reads_float16_memmaps(tmp_path):
    vecs = topical_vectors(400, seed=3)
    path = tmp_path / "v.f16"
    vecs.astype(np.float16).tofile(path)
    mm = np.memmap(path, dtype=np.float16, mode="r", shape=vecs.shape)
    as32 = np.asarray(mm, dtype=np.float32)
    frame = pl.DataFrame({"claim_id": [f"c{i:04d}" for i in range(400)], "doc_id": [f"d{i}" for i in range(400)],
                          "outlet": [f"o{i % 7}" for i in range(400)], "text": ["x"] * 400, "core": ["x"] * 400})
    from_mm = cluster_claims(frame, mm, build_faiss(mm), CosineJudge(0.9), k=10)
    from_f32 = cluster_claims(frame, as32, build_faiss(as32), CosineJudge(0.9), k=10)
    assert from_mm.clusters.equals(from_f32.clusters)
    assert from_mm.clusters["size"].max() > 2


def test_large_cluster_statistics_match_the_dense_computation(monkeypatch):
    vecs = topical_vectors(300, topics=1, noise=0.5, seed=4)
    frame = pl.DataFrame({"claim_id": [f"c{i:03d}" for i in range(300)], "outlet": ["o"] * 300,
                          "text": ["t"] * 300})
    labels = np.zeros(300, dtype=np.int64)
    _, dense = summarize(frame, vecs, labels)
    monkeypatch.setattr(cluster_mod, "_DENSE_MAX", 50)
    _, blocked = summarize(frame, vecs, labels)
    row_d, row_b = dense.row(0, named=True), blocked.row(0, named=True)
    assert row_b["representative_claim_id"] == row_d["representative_claim_id"]
    assert row_b["cohesion"] == pytest.approx(row_d["cohesion"], abs=1e-4)
    assert row_b["cohesion_min"] == pytest.approx(row_d["cohesion_min"], abs=1e-4)
