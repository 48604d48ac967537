"""Which claim pairs are worth an NLI call: only those that can become a flagged contradiction.

A pair can be flagged only if its claims sit in different near-duplicate clusters and come from
different outlets (unless ``within_outlet``), and it is worth asking the model only if the two are about
one subject: FAISS neighbours at cosine ≥ ``candidate_threshold``, or claims that name the same subject
(a named entity, agent or patient of their frames) held by few claims (``subject_key_max_claims``). Pairs are oriented by claim id, so a
pair has the same (a, b) direction whatever the row order of the claims table (an index grows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from claimmatch.cluster import Candidates, pair_cosines, retrieve_pairs
from claimmatch.contradict.who_did_it import PRONOUNS, normalized


def orient(claim_ids: Sequence[str], i: np.ndarray, j: np.ndarray,
           rank: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Rows (a, b) with claim_id[a] < claim_id[b]: the direction scored first. ``rank``: the ids'
    :func:`claim_id_rank`, when the caller has it."""
    rank = claim_id_rank(claim_ids) if rank is None else rank
    swap = rank[i] > rank[j]
    return np.where(swap, j, i), np.where(swap, i, j)


def shared_subject_pairs(claims: pl.DataFrame, max_claims: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (i < j, sorted) that name the same subject (a named entity, or their frame's agent or
    patient, normalised as :func:`claimmatch.contradict.who_did_it.normalize` does; pronouns are no
    subject) when at most ``max_claims`` claims name it: commoner subjects say little. Built as columns,
    not per-claim sets: at 1M claims the sets and their holders held about a GiB."""
    n = len(claims)
    parts = []
    rows = claims.with_row_index("row")
    if "entities" in claims.columns:
        parts.append(rows.select(pl.col("row"), pl.col("entities").alias("phrase")).explode("phrase"))
    parts += [rows.select(pl.col("row"), pl.col(c).alias("phrase")) for c in ("agent", "patient") if c in claims.columns]
    if not parts or n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    named = (pl.concat(parts).drop_nulls("phrase").select(pl.col("row").cast(pl.Int64),
                                                           normalized(pl.col("phrase")).alias("key"))
             .filter((pl.col("key") != "") & ~pl.col("key").is_in(sorted(PRONOUNS))).unique())
    held = named.filter(pl.len().over("key").is_between(2, max_claims))
    pairs = held.join(held, on="key", suffix="_b").filter(pl.col("row") < pl.col("row_b"))
    codes = np.unique((pairs["row"] * n + pairs["row_b"]).to_numpy())
    return codes // n, codes % n


def claim_id_rank(claim_ids: Sequence[str]) -> np.ndarray:
    """Each row's position in claim-id order (ids are unique), so pairs sort by id with numpy."""
    ids = claim_ids if isinstance(claim_ids, pl.Series) else pl.Series(list(claim_ids), dtype=pl.String)
    return (ids.rank("ordinal") - 1).cast(pl.Int64).to_numpy()


def nli_candidates(vectors: np.ndarray, source, claim_ids: Sequence[str], outlets: Sequence[str],
                   clusters: np.ndarray, *, neighbors: int, min_similarity: float,
                   within_outlet: bool,
                   shared_subject: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[Candidates, dict]:
    """Candidate pairs from a FAISS index (searched here) or from pairs already retrieved (filtered here,
    their cosines taken as :func:`claimmatch.cluster.retrieve_pairs` gave them), plus ``shared_subject``
    pairs (rows i < j, as from :func:`shared_subject_pairs`) whatever their cosine.

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
            ei, ej = extra // n, extra % n
            cand = Candidates(np.concatenate([cand.i, ei]), np.concatenate([cand.j, ej]),
                              np.concatenate([cand.sim, np.round(pair_cosines(vectors, ei, ej), 6)]))
    cl = np.asarray(clusters)
    keep = cl[cand.i] != cl[cand.j]
    cuts["dropped_same_cluster"] = int((~keep).sum())
    if not within_outlet:
        out = np.asarray(outlets, dtype=object)
        same_outlet = keep & (out[cand.i] == out[cand.j])
        cuts["dropped_same_outlet"] = int(same_outlet.sum())
        keep &= ~same_outlet
    rank = claim_id_rank(claim_ids)
    a, b = orient(claim_ids, cand.i[keep], cand.j[keep], rank)
    order = np.lexsort((rank[b], rank[a]))  # by (claim_id_a, claim_id_b); pairs are distinct
    a, b = a[order].astype(np.int64), b[order].astype(np.int64)
    # retrieval computed each pair's cosine already (pair_cosines, rounded); a dot product does not
    # depend on the order of its two rows, so orienting a pair keeps it
    sim = np.asarray(cand.sim[keep][order], dtype=np.float32)
    return Candidates(a, b, sim), cuts
