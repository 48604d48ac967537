"""Near-duplicate clustering: retrieve (FAISS) → verify (pair judge) → group (average link, no chaining).

Grouping merges clusters along verified edges, strongest first, but only while the *average* link
similarity over all cross pairs stays at or above the threshold and no cross pair is vetoed. So a~b and
b~c never drag an unrelated c into a's cluster: the a–c similarity pulls the average down.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
import polars as pl

from claimmatch.judge import Judgement, PairJudge, claim_frames, link_similarity
from claimmatch.store.faiss_build import search
from claimmatch.story import apart_stories


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
    sim = pair_cosines(vectors, pairs[:, 0], pairs[:, 1])
    return Candidates(pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), np.round(sim, 6))


def pair_cosines(vectors: np.ndarray, a: np.ndarray, b: np.ndarray, batch: int = 8192) -> np.ndarray:
    """Dot products of row pairs in float32, in batches: ``vectors`` may be a large float16 memmap.

    A batch gathers two float32 copies of its rows (3 KB per pair at 384 dimensions): 8,192 pairs hold
    25 MB, where 65,536 held 200 MB, the largest transient of the clustering and contradiction stages.
    """
    out = np.empty(len(a), dtype=np.float32)
    for s in range(0, len(a), batch):
        va = np.asarray(vectors[a[s:s + batch]], dtype=np.float32)
        vb = np.asarray(vectors[b[s:s + batch]], dtype=np.float32)
        out[s:s + len(va)] = np.einsum("ij,ij->i", va, vb)
    return out


def group(vectors: np.ndarray, cand: Candidates, verdict: Judgement, threshold: float) -> np.ndarray:
    """Average-link agglomeration over verified edges; returns a group label (root index) per claim.

    The average link of clusters A and B is computed from per-cluster vector sums, mean cross cosine =
    (ΣA · ΣB) / (|A||B|), plus corrections for judged pairs whose link similarity differs from their cosine
    (and vetoes), aggregated per pair of clusters. So a merge costs one dot product whatever the cluster
    sizes, and memory stays linear in the number of claims and judged pairs.
    """
    n = len(vectors)
    parent = list(range(n))
    sizes: dict[int, int] = {}  # roots of clusters with more than one member
    sums: dict[int, np.ndarray] = {}
    # Between-cluster corrections: adj[a][b] = [Σ(link - cosine) over judged cross pairs, any veto].
    adj: dict[int, dict[int, list]] = {}
    corr = verdict.link_sim.astype(np.float64) - cand.sim.astype(np.float64)
    special = np.flatnonzero((np.abs(corr) > 1e-6) | verdict.veto)
    for e in special.tolist():
        i, j = int(cand.i[e]), int(cand.j[e])
        for x, y in ((i, j), (j, i)):
            entry = adj.setdefault(x, {}).setdefault(y, [0.0, False])
            entry[0] += float(corr[e])
            entry[1] = entry[1] or bool(verdict.veto[e])

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def vector_sum(root: int) -> np.ndarray:
        found = sums.get(root)
        return found if found is not None else np.asarray(vectors[root], dtype=np.float64)

    ok = np.flatnonzero(verdict.same)
    order = ok[np.lexsort((cand.j[ok], cand.i[ok], -verdict.link_sim[ok].astype(np.float64)))]
    for i, j in zip(cand.i[order].tolist(), cand.j[order].tolist(), strict=True):
        ra, rb = find(i), find(j)
        if ra == rb:
            continue
        entry = adj.get(ra, {}).get(rb)
        if entry is not None and entry[1]:
            continue
        sa, sb = vector_sum(ra), vector_sum(rb)
        na, nb = sizes.get(ra, 1), sizes.get(rb, 1)
        mean = (float(sa @ sb) + (entry[0] if entry is not None else 0.0)) / (na * nb)
        if mean < threshold - 1e-6:
            continue
        keep, drop = (ra, rb) if ra < rb else (rb, ra)
        parent[drop] = keep
        sums[keep] = sa + sb
        sums.pop(drop, None)
        sizes[keep] = na + nb
        sizes.pop(drop, None)
        moved = adj.pop(drop, {})
        mine = adj.setdefault(keep, {})
        mine.pop(drop, None)
        for other, (c, v) in moved.items():
            if other == keep:
                continue
            back = adj[other]
            back.pop(drop, None)
            merged = mine.setdefault(other, [0.0, False])
            merged[0] += c
            merged[1] = merged[1] or v
            back[keep] = merged
    return np.array([find(i) for i in range(n)], dtype=np.int64)


_DENSE_MAX = 2048  # clusters larger than this are described block by block, never as one n×n matrix


def _large_cluster_stats(vectors: np.ndarray, rows: list[int], block: int = 1024) -> tuple[float, float, np.ndarray]:
    """Cohesion, minimum pairwise cosine and centrality of a big cluster in O(n·block) memory."""
    n = len(rows)
    total = np.zeros(vectors.shape[1], dtype=np.float64)
    for s in range(0, n, block):
        total += np.asarray(vectors[rows[s:s + block]], dtype=np.float64).sum(axis=0)
    centrality = np.empty(n, dtype=np.float64)
    sq_sum, lowest = 0.0, np.inf
    for s in range(0, n, block):
        a = np.asarray(vectors[rows[s:s + block]], dtype=np.float32)
        sq = np.einsum("ij,ij->i", a, a).astype(np.float64)
        sq_sum += float(sq.sum())
        centrality[s:s + len(a)] = (a.astype(np.float64) @ total - sq) / (n - 1)
        for t in range(0, n, block):
            sim = a @ np.asarray(vectors[rows[t:t + block]], dtype=np.float32).T
            if s == t:
                np.fill_diagonal(sim, np.inf)
            lowest = min(lowest, float(sim.min()))
    cohesion = (float(total @ total) - sq_sum) / (n * (n - 1))
    return cohesion, lowest, centrality


def _list_column(lists: list[list[str]]) -> pl.Series:
    """A List(String) column from flat values and group ids: polars builds nested lists one by one (slow)."""
    lengths = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
    flat = pl.DataFrame({"g": np.repeat(np.arange(len(lists)), lengths),
                         "v": pl.Series([v for x in lists for v in x], dtype=pl.String)})
    nested = flat.group_by("g", maintain_order=True).agg(pl.col("v"))["v"]
    if len(nested) != len(lists):  # an empty list has no row to group: never produced by summarize
        raise ValueError("empty member list")
    return nested


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
        if len(rows) == 1:  # most claims at scale: nothing to compute
            infos.append((rows, [outlets[rows[0]]], rows[0], 1.0, 1.0))
            continue
        rows = sorted(rows, key=lambda r: claim_ids[r])
        n = len(rows)
        if n > _DENSE_MAX:
            cohesion, cohesion_min, centrality = _large_cluster_stats(vectors, rows)
        elif n > 1:
            sub = np.asarray(vectors[rows], dtype=np.float32)
            sim = sub @ sub.T
            # a·b and b·a may differ in their last bits, and so may a·a and b·b: symmetrised, without the
            # diagonal, the two claims of a pair tie exactly and the claim id decides, whatever the cache held
            sim = (sim + sim.T) / 2
            np.fill_diagonal(sim, 0.0)
            off = sim[~np.eye(n, dtype=bool)]
            cohesion, cohesion_min = float(off.mean()), float(off.min())
            centrality = sim.sum(axis=1) / (n - 1)
        else:
            cohesion = cohesion_min = 1.0
            centrality = np.ones(1)
        best = max(range(n), key=lambda k: (round(float(centrality[k]), 6), [-ord(c) for c in claim_ids[rows[k]]]))
        outs = sorted(set(outlets[r] for r in rows))
        infos.append((rows, outs, rows[best], round(cohesion, 4), round(cohesion_min, 4)))
    infos.sort(key=lambda t: (-len(t[1]), -len(t[0]), claim_ids[t[0][0]]))
    cluster_of = np.zeros(len(claims), dtype=np.int64)
    for cid, (rows, *_) in enumerate(infos):
        cluster_of[rows] = cid
    # Built column by column: at a million claims, one dict per cluster would cost gigabytes.
    schema = {"cluster_id": pl.Int64, "size": pl.Int64, "n_outlets": pl.Int64, "outlets": pl.List(pl.String),
              "representative_claim_id": pl.String, "representative_text": pl.String, "cohesion": pl.Float64,
              "cohesion_min": pl.Float64, "claim_ids": pl.List(pl.String)}
    clusters = pl.DataFrame({
        "cluster_id": range(len(infos)), "size": [len(t[0]) for t in infos], "n_outlets": [len(t[1]) for t in infos],
        "outlets": _list_column([t[1] for t in infos]), "representative_claim_id": [claim_ids[t[2]] for t in infos],
        "representative_text": [texts[t[2]] for t in infos], "cohesion": [t[3] for t in infos],
        "cohesion_min": [t[4] for t in infos], "claim_ids": _list_column([[claim_ids[r] for r in t[0]] for t in infos]),
    }, schema=schema)
    return claims.with_columns(pl.Series("cluster_id", cluster_of, dtype=pl.Int64)), clusters


@dataclass
class ClusterResult:
    claims: pl.DataFrame  # input claims plus cluster_id
    clusters: pl.DataFrame
    candidates: Candidates
    judgement: Judgement
    reused: int = 0  # verdicts taken from an earlier run, not judged again
    # Which candidate pairs have a verdict (the rest could only have been vetoed, and were never in one
    # cluster, so their veto could not matter: NLIJudge.needs_verdict); None: all.
    judged: np.ndarray | None = None


@dataclass
class KnownVerdicts:
    """The judge's verdicts from an earlier run, for pairs of claims that have not changed since.

    A verdict is a function of the two claims alone (texts, frames, documents, cosine) and the judge's
    settings, so a pair judged before is not judged again: an incremental run pays the judge only for
    pairs with a new or changed claim. ``codes`` are ``lo * n + hi`` over this run's rows (lo < hi),
    sorted, for pairs whose two claims are both unchanged.
    """

    codes: np.ndarray
    same: np.ndarray
    veto: np.ndarray

    def lookup(self, cand: Candidates, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(found, position in ``codes``) of each candidate pair."""
        codes = cand.i.astype(np.int64) * n + cand.j.astype(np.int64)
        pos = np.searchsorted(self.codes, codes)
        found = pos < len(self.codes)
        found[found] = self.codes[pos[found]] == codes[found]
        return found, pos


def _judge_pairs(claims: pl.DataFrame, cand: Candidates, judge: PairJudge, text_column: str,
                 vectors: np.ndarray | None = None, story_threshold: float | None = None) -> Judgement:
    """The judge's verdict on each candidate pair (rows i < j); with frames and ``story_threshold``, two
    claims that name nothing from two stories are kept apart (:func:`claimmatch.story.apart_stories`)."""
    texts = claims[text_column].to_list()
    frames = None
    if getattr(judge, "uses_frames", False) and text_column == "text" and len(cand):
        frames = claim_frames(claims, np.unique(np.concatenate([cand.i, cand.j])))
    # The judge's rule is symmetric; asking (a, b) in claim-id order makes its first direction the one the
    # contradiction stage asks first too, so the stage finds it in the scorer's memo.
    first, second = cand.i, cand.j
    if "claim_id" in claims.columns and len(cand):
        ids = claims["claim_id"].to_numpy()
        swap = ids[cand.i] > ids[cand.j]
        first, second = np.where(swap, cand.j, cand.i), np.where(swap, cand.i, cand.j)
    fa = [frames[i] for i in first] if frames else None
    fb = [frames[j] for j in second] if frames else None
    unscored = docs = None
    if getattr(judge, "uses_frames", False) and "doc_id" in claims.columns:
        docs = claims["doc_id"].to_numpy()
        unscored = docs[cand.i] == docs[cand.j]  # clauses of one document: cosine and frames suffice
    verdict = judge.judge([texts[i] for i in first], [texts[j] for j in second], cand.sim, fa, fb, unscored)
    if frames and vectors is not None and docs is not None:
        unnamed = np.fromiter((not frames[int(a)].entities and not frames[int(b)].entities
                               for a, b in zip(cand.i, cand.j, strict=True)), bool, count=len(cand))
        apart = apart_stories(docs, vectors, cand.i, cand.j, unnamed, story_threshold) if unnamed.any() else unnamed
        if apart.any():
            verdict.same[apart], verdict.veto[apart] = False, True
            verdict.link_sim[apart] = np.asarray(cand.sim, np.float32)[apart]
    return verdict


def cluster_claims(claims: pl.DataFrame, vectors: np.ndarray, index: faiss.Index, judge: PairJudge,
                   k: int = 10, text_column: str = "text", known: KnownVerdicts | None = None,
                   timings: dict[str, float] | None = None, story_threshold: float | None = None) -> ClusterResult:
    """The whole clustering stage for claims whose row i matches ``vectors[i]`` and FAISS id i.

    ``known``: verdicts of an earlier run; those pairs are not judged again (the result is the same).
    ``timings`` receives the seconds of each step (retrieve, judge, group, summarize).
    ``story_threshold``: two claims that name nothing are never one claim unless their documents report one
    story at this similarity (:func:`claimmatch.story.apart_stories`; judges with frames only; None: off).

    A judge with ``needs_verdict`` judges up front only the pairs it may call the same claim; the others can
    only be vetoed, and are judged once grouping puts both claims in one cluster (a veto anywhere else
    blocks no merge that happens, so the clusters equal judging every pair; tested).
    """
    clock = StepClock(timings)
    cand = retrieve_pairs(index, vectors, k, judge.min_similarity)
    clock("retrieve")
    n = len(cand)
    same, veto, judged = np.zeros(n, bool), np.zeros(n, bool), np.zeros(n, bool)
    link = np.asarray(cand.sim, np.float32).copy()
    reused = 0

    def settle(rows: np.ndarray) -> None:
        """Verdicts for candidate ``rows``: stored ones where ``known`` has them, the judge's otherwise."""
        nonlocal reused
        ask = rows
        if known is not None and len(rows):
            found, pos = known.lookup(Candidates(cand.i[rows], cand.j[rows], cand.sim[rows]), len(claims))
            hit = rows[found]
            same[hit], veto[hit] = known.same[pos[found]], known.veto[pos[found]]
            link[hit] = link_similarity(same[hit], cand.sim[hit], judge.threshold)
            reused += len(hit)
            ask = rows[~found]
        if len(ask):
            fresh = _judge_pairs(claims, Candidates(cand.i[ask], cand.j[ask], cand.sim[ask]), judge, text_column,
                                 vectors, story_threshold)
            same[ask], veto[ask], link[ask] = fresh.same, fresh.veto, fresh.link_sim
        judged[rows] = True

    upfront = getattr(judge, "needs_verdict", None)
    settle(np.flatnonzero(upfront(cand.sim)) if upfront is not None else np.arange(n))
    clock("judge")
    while True:
        labels = group(vectors, cand, Judgement(same, link, veto), judge.threshold)
        clock("group")
        # Pairs left unjudged can only be vetoed, and a veto changes grouping only between claims it put in
        # one cluster: judge those; a new veto means grouping again (vetoes only grow, so this ends).
        pending = np.flatnonzero(~judged & (labels[cand.i] == labels[cand.j]))
        if not len(pending):
            break
        settle(pending)
        clock("judge")
        if not veto[pending].any():
            break
    with_ids, clusters = summarize(claims, vectors, labels)
    clock("summarize")
    return ClusterResult(with_ids, clusters, cand, Judgement(same, link, veto), reused, judged)


class StepClock:
    """Adds the seconds since the previous call to ``timings[name]`` (nothing when timings is None)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = round(self.timings.get(name, 0.0) + now - self.last, 3)
        self.last = now
