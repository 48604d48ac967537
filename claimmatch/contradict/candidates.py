"""Which claim pairs are worth an NLI call: only those that can become a flagged contradiction.

A pair can be flagged only if its claims sit in different near-duplicate clusters and come from
different outlets (unless ``within_outlet``), and it is worth asking the model only if the two are about
one subject: FAISS neighbours at cosine ≥ ``candidate_threshold``. Pairs are oriented by claim id, so a
pair has the same (a, b) direction whatever the row order of the claims table (an index grows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from claimmatch.cluster import Candidates, pair_cosines, retrieve_pairs


def orient(claim_ids: Sequence[str], i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (a, b) with claim_id[a] < claim_id[b]: the direction scored first."""
    ids = np.asarray(claim_ids, dtype=object)
    swap = ids[i] > ids[j]
    return np.where(swap, j, i), np.where(swap, i, j)


def nli_candidates(vectors: np.ndarray, source, claim_ids: Sequence[str], outlets: Sequence[str],
                   clusters: np.ndarray, *, neighbors: int, min_similarity: float,
                   within_outlet: bool) -> tuple[Candidates, dict]:
    """Candidate pairs from a FAISS index (searched here) or from pairs already retrieved (filtered here).

    Returns the pairs, oriented by claim id and sorted, and how many each cut removed.
    """
    if isinstance(source, Candidates):
        keep = source.sim >= min_similarity
        cand = Candidates(source.i[keep], source.j[keep], source.sim[keep])
    else:
        cand = retrieve_pairs(source, vectors, neighbors, min_similarity)
    cuts = {"neighbours": len(cand)}
    cl = np.asarray(clusters)
    keep = cl[cand.i] != cl[cand.j]
    cuts["same_cluster"] = int((~keep).sum())
    if not within_outlet:
        out = np.asarray(outlets, dtype=object)
        same_outlet = keep & (out[cand.i] == out[cand.j])
        cuts["same_outlet"] = int(same_outlet.sum())
        keep &= ~same_outlet
    a, b = orient(claim_ids, cand.i[keep], cand.j[keep])
    ids = np.asarray(claim_ids, dtype=object)
    order = np.asarray(sorted(range(len(a)), key=lambda k: (ids[a[k]], ids[b[k]])), dtype=np.int64)
    a, b = a[order].astype(np.int64), b[order].astype(np.int64)
    sim = np.round(pair_cosines(vectors, a, b), 6) if len(a) else np.zeros(0, np.float32)
    return Candidates(a, b, sim), cuts
