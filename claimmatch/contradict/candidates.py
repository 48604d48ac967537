"""Which claim pairs are worth an NLI call: only those that can become a flagged contradiction.

A pair can be flagged only if its claims sit in different near-duplicate clusters and come from
different outlets (unless ``within_outlet``), and it is worth asking the model only if the two are about
one subject: FAISS neighbours at cosine ≥ ``candidate_threshold``, or claims that name the same subject
(a named entity, agent or patient of their frames) held by few claims (``subject_key_max_claims``). Pairs are oriented by claim id, so a
pair has the same (a, b) direction whatever the row order of the claims table (an index grows).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import polars as pl

from claimmatch.cluster import Candidates, pair_cosines, retrieve_pairs
from claimmatch.contradict.who_did_it import PRONOUNS, normalize


def orient(claim_ids: Sequence[str], i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows (a, b) with claim_id[a] < claim_id[b]: the direction scored first."""
    ids = np.asarray(claim_ids, dtype=object)
    swap = ids[i] > ids[j]
    return np.where(swap, j, i), np.where(swap, i, j)


def subject_keys(claims: pl.DataFrame) -> list[set[str]]:
    """Per claim, the subjects it names: named entities and its frame's agent and patient, normalised."""
    cols = [c for c in ("entities", "agent", "patient") if c in claims.columns]
    keys: list[set[str]] = [set() for _ in range(len(claims))]
    for c in cols:
        for k, value in enumerate(claims[c].to_list()):
            for phrase in (value or []) if c == "entities" else [value]:
                if phrase and (norm := normalize(phrase)) and norm not in PRONOUNS:
                    keys[k].add(norm)
    return keys


def subject_pairs(keys: list[set[str]], max_claims: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j, sorted) that share a subject named by at most ``max_claims`` claims (commoner ones
    say little). Pairs are held as int64 codes, not a set of tuples: a corpus has millions of them."""
    holders: dict[str, list[int]] = defaultdict(list)
    for row, ks in enumerate(keys):
        for key in ks:
            holders[key].append(row)
    n = len(keys)
    parts: list[np.ndarray] = []
    for rows in holders.values():
        if 2 <= len(rows) <= max_claims:
            r = np.asarray(rows, dtype=np.int64)  # ascending: rows were appended in order
            a, b = np.triu_indices(len(r), 1)
            parts.append(r[a] * n + r[b])
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    codes = np.unique(np.concatenate(parts))
    return codes // n, codes % n


def claim_id_rank(claim_ids: Sequence[str]) -> np.ndarray:
    """Each row's position in claim-id order (ids are unique), so pairs sort by id with numpy."""
    order = sorted(range(len(claim_ids)), key=claim_ids.__getitem__)
    rank = np.empty(len(claim_ids), dtype=np.int64)
    rank[order] = np.arange(len(claim_ids), dtype=np.int64)
    return rank


def nli_candidates(vectors: np.ndarray, source, claim_ids: Sequence[str], outlets: Sequence[str],
                   clusters: np.ndarray, *, neighbors: int, min_similarity: float,
                   within_outlet: bool,
                   shared_subject: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[Candidates, dict]:
    """Candidate pairs from a FAISS index (searched here) or from pairs already retrieved (filtered here),
    plus ``shared_subject`` pairs (rows i < j, as from :func:`subject_pairs`) whatever their cosine.

    Returns the pairs, oriented by claim id and sorted, and how many came from each source and each cut
    removed.
    """
    if isinstance(source, Candidates):
        keep = source.sim >= min_similarity
        cand = Candidates(source.i[keep], source.j[keep], source.sim[keep])
    else:
        cand = retrieve_pairs(source, vectors, neighbors, min_similarity)
    cuts = {"from_neighbours": len(cand)}
    if shared_subject is not None and len(shared_subject[0]):
        n = len(claim_ids)
        have = cand.i.astype(np.int64) * n + cand.j.astype(np.int64)  # retrieved pairs have i < j too
        extra = np.setdiff1d(shared_subject[0] * n + shared_subject[1], have)  # sorted, unique
        cuts["from_shared_subject"] = len(extra)
        if len(extra):
            cand = Candidates(np.concatenate([cand.i, extra // n]), np.concatenate([cand.j, extra % n]),
                              np.concatenate([cand.sim, np.zeros(len(extra), np.float32)]))
    cl = np.asarray(clusters)
    keep = cl[cand.i] != cl[cand.j]
    cuts["dropped_same_cluster"] = int((~keep).sum())
    if not within_outlet:
        out = np.asarray(outlets, dtype=object)
        same_outlet = keep & (out[cand.i] == out[cand.j])
        cuts["dropped_same_outlet"] = int(same_outlet.sum())
        keep &= ~same_outlet
    a, b = orient(claim_ids, cand.i[keep], cand.j[keep])
    rank = claim_id_rank(claim_ids)
    order = np.lexsort((rank[b], rank[a]))  # by (claim_id_a, claim_id_b); pairs are distinct
    a, b = a[order].astype(np.int64), b[order].astype(np.int64)
    sim = np.round(pair_cosines(vectors, a, b), 6) if len(a) else np.zeros(0, np.float32)
    return Candidates(a, b, sim), cuts
