"""Near-duplicate clustering: retrieve (FAISS) → verify (pair judge) → group (average link, no chaining).

Grouping merges clusters along verified edges, strongest first, but only while the *average* link
similarity over all cross pairs stays at or above the threshold and no cross pair is vetoed. So a~b and
b~c never drag an unrelated c into a's cluster: the a–c similarity pulls the average down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
import polars as pl

from claimmatch.index import search
from claimmatch.judge import Judgement, PairJudge


@dataclass
class Candidates:
    """Retrieved pairs i < j with their cosine similarity, sorted deterministically."""

    i: np.ndarray
    j: np.ndarray
    sim: np.ndarray

    def __len__(self) -> int:
        return len(self.i)


def retrieve_pairs(index: faiss.Index, vectors: np.ndarray, k: int, min_sim: float,
                   outlets: Sequence[str] | None = None, cross_outlet_only: bool = False) -> Candidates:
    """Each claim's k nearest neighbours above ``min_sim``, deduplicated as unordered pairs."""
    sims, ids = search(index, vectors, k + 1)
    rows = np.repeat(np.arange(len(vectors)), sims.shape[1])
    cols, vals = ids.ravel(), sims.ravel()
    keep = (cols >= 0) & (cols != rows) & (vals >= min_sim)
    a, b = rows[keep], cols[keep]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    if cross_outlet_only and outlets is not None:
        out = np.asarray(outlets, dtype=object)
        mask = out[lo] != out[hi]
        lo, hi = lo[mask], hi[mask]
    if len(lo) == 0:
        return Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))
    # Recompute similarity from the vectors so (i, j) and (j, i) agree exactly, then deduplicate.
    pairs = np.unique(np.stack([lo, hi], axis=1), axis=0)
    sim = np.einsum("ij,ij->i", vectors[pairs[:, 0]], vectors[pairs[:, 1]]).astype(np.float32)
    return Candidates(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), np.round(sim, 6))


class _Groups:
    """Union–find whose roots keep their member lists (clusters stay small; merges are rare)."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))
        self.members: dict[int, list[int]] = {i: [i] for i in range(n)}

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = sorted((self.find(a), self.find(b)))
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))


def group(vectors: np.ndarray, cand: Candidates, verdict: Judgement, threshold: float) -> np.ndarray:
    """Average-link agglomeration over verified edges; returns a group label (root index) per claim."""
    groups = _Groups(len(vectors))
    link: dict[tuple[int, int], float] = {}
    vetoed: set[tuple[int, int]] = set()
    for i, j, s, v in zip(cand.i.tolist(), cand.j.tolist(), verdict.link_sim.tolist(), verdict.veto.tolist(),
                          strict=True):
        link[(i, j)] = s
        if v:
            vetoed.add((i, j))
    order = sorted((-float(s), int(i), int(j)) for i, j, s, ok in
                   zip(cand.i, cand.j, verdict.link_sim, verdict.same, strict=True) if ok)
    for _, i, j in order:
        ra, rb = groups.find(i), groups.find(j)
        if ra == rb:
            continue
        ma, mb = groups.members[ra], groups.members[rb]
        if vetoed and any((min(x, y), max(x, y)) in vetoed for x in ma for y in mb):
            continue
        cross = vectors[ma] @ vectors[mb].T
        for ai, x in enumerate(ma):
            for bi, y in enumerate(mb):
                key = (min(x, y), max(x, y))
                if key in link:
                    cross[ai, bi] = link[key]
        if float(cross.mean()) >= threshold - 1e-6:
            groups.union(i, j)
    return np.array([groups.find(i) for i in range(len(vectors))], dtype=np.int64)


def summarize(claims: pl.DataFrame, vectors: np.ndarray, labels: np.ndarray) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Number clusters deterministically and describe them.

    Ids run from 0 in report order: most outlets first, then size, then the smallest claim id. The
    representative is the medoid (highest mean similarity to the other members; ties by claim id).
    """
    claim_ids = claims["claim_id"].to_list()
    outlets = claims["outlet"].to_list()
    texts = claims["text"].to_list()
    members: dict[int, list[int]] = {}
    for row, lab in enumerate(labels.tolist()):
        members.setdefault(lab, []).append(row)
    infos = []
    for rows in members.values():
        rows = sorted(rows, key=lambda r: claim_ids[r])
        sub = vectors[rows]
        sim = sub @ sub.T
        n = len(rows)
        if n > 1:
            off = sim[~np.eye(n, dtype=bool)]
            cohesion, cohesion_min = float(off.mean()), float(off.min())
            centrality = (sim.sum(axis=1) - np.diag(sim)) / (n - 1)
        else:
            cohesion = cohesion_min = 1.0
            centrality = np.ones(1)
        best = max(range(n), key=lambda k: (round(float(centrality[k]), 6), [-ord(c) for c in claim_ids[rows[k]]]))
        outs = sorted(set(outlets[r] for r in rows))
        infos.append((rows, outs, rows[best], round(cohesion, 4), round(cohesion_min, 4)))
    infos.sort(key=lambda t: (-len(t[1]), -len(t[0]), claim_ids[t[0][0]]))
    cluster_of = np.zeros(len(claims), dtype=np.int64)
    records = []
    for cid, (rows, outs, rep, coh, coh_min) in enumerate(infos):
        cluster_of[rows] = cid
        records.append({
            "cluster_id": cid, "size": len(rows), "n_outlets": len(outs), "outlets": outs,
            "representative_claim_id": claim_ids[rep], "representative_text": texts[rep],
            "cohesion": coh, "cohesion_min": coh_min, "claim_ids": [claim_ids[r] for r in rows],
        })
    schema = {"cluster_id": pl.Int64, "size": pl.Int64, "n_outlets": pl.Int64, "outlets": pl.List(pl.String),
              "representative_claim_id": pl.String, "representative_text": pl.String, "cohesion": pl.Float64,
              "cohesion_min": pl.Float64, "claim_ids": pl.List(pl.String)}
    clusters = pl.DataFrame(records, schema=schema)
    return claims.with_columns(pl.Series("cluster_id", cluster_of, dtype=pl.Int64)), clusters


@dataclass
class ClusterResult:
    claims: pl.DataFrame  # input claims plus cluster_id
    clusters: pl.DataFrame
    candidates: Candidates
    judgement: Judgement


def cluster_claims(claims: pl.DataFrame, vectors: np.ndarray, index: faiss.Index, judge: PairJudge,
                   k: int = 10, text_column: str = "core") -> ClusterResult:
    """The whole clustering stage for claims whose row i matches ``vectors[i]`` and FAISS id i."""
    cand = retrieve_pairs(index, vectors, k, judge.min_similarity)
    texts = claims[text_column].to_list()
    verdict = judge.judge([texts[i] for i in cand.i], [texts[j] for j in cand.j], cand.sim)
    labels = group(vectors, cand, verdict, judge.threshold)
    with_ids, clusters = summarize(claims, vectors, labels)
    return ClusterResult(with_ids, clusters, cand, verdict)
