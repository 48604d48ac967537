"""Contradictions: cross-outlet claim pairs the NLI model calls contradictory, grouped into topics.

Pairs come from the clustering stage (FAISS neighbours down to the "same subject" threshold, judged by
NLI in both directions), so no extra model pass is needed, plus conflicting accounts of who did it
(:mod:`claimmatch.accounts`). A topic is a connected part of the contradiction graph over near-duplicate
clusters; its camps are the two sides of the split that puts the most flagged pairs across camps, so
every outlet repeating a version lands on the same side.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict, deque
from dataclasses import dataclass

import numpy as np
import polars as pl

from claimmatch.accounts import AccountConflicts
from claimmatch.cluster import Candidates
from claimmatch.judge import Judgement, contradiction_score, entailment_score

PAIR_COLUMNS = ["claim_id_a", "claim_id_b", "doc_id_a", "doc_id_b", "outlet_a", "outlet_b", "text_a", "text_b",
                "speaker_a", "speaker_b", "similarity", "p_contradiction", "p_entailment", "topic_id",
                "cluster_id_a", "cluster_id_b", "basis"]
PAIR_SCHEMA = {"claim_id_a": pl.String, "claim_id_b": pl.String, "doc_id_a": pl.String, "doc_id_b": pl.String,
               "outlet_a": pl.String, "outlet_b": pl.String, "text_a": pl.String, "text_b": pl.String,
               "speaker_a": pl.String, "speaker_b": pl.String, "similarity": pl.Float64,
               "p_contradiction": pl.Float64, "p_entailment": pl.Float64, "topic_id": pl.Int64,
               "cluster_id_a": pl.Int64, "cluster_id_b": pl.Int64, "basis": pl.String}
NLI_BASIS = "nli"


@dataclass
class Topic:
    topic_id: int
    label: str
    camps: tuple[list[int], list[int]]  # cluster ids on each side
    pair_count: int
    max_p_contradiction: float


def flag_pairs(claims: pl.DataFrame, cand: Candidates, verdict: Judgement, threshold: float,
               within_outlet: bool = False) -> pl.DataFrame:
    """Candidate pairs above ``threshold`` that sit in different clusters (and outlets, by default)."""
    if verdict.nli_ab is None or len(cand) == 0:
        return pl.DataFrame(schema={c: PAIR_SCHEMA[c] for c in PAIR_COLUMNS if c != "topic_id"})
    p_con = contradiction_score(verdict.nli_ab, verdict.nli_ba)
    p_ent = entailment_score(verdict.nli_ab, verdict.nli_ba)
    cluster = claims["cluster_id"].to_numpy()
    outlet = np.asarray(claims["outlet"].to_list(), dtype=object)
    keep = (p_con >= threshold) & (cluster[cand.i] != cluster[cand.j])
    if not within_outlet:
        keep &= outlet[cand.i] != outlet[cand.j]
    ks = np.flatnonzero(keep)
    return _pair_frame(claims, cand.i[ks], cand.j[ks], cand.sim[ks], p_con[ks], p_ent[ks],
                       [NLI_BASIS] * len(ks))


def _pair_frame(claims: pl.DataFrame, i: np.ndarray, j: np.ndarray, sim: np.ndarray, p_con: np.ndarray,
                p_ent: np.ndarray, basis: list[str]) -> pl.DataFrame:
    cluster = claims["cluster_id"].to_numpy()
    cols = claims.select("claim_id", "doc_id", "outlet", "text", "speaker").rows()
    rows = []
    for k in range(len(i)):
        a, b = cols[int(i[k])], cols[int(j[k])]
        rows.append({"claim_id_a": a[0], "claim_id_b": b[0], "doc_id_a": a[1], "doc_id_b": b[1],
                     "outlet_a": a[2], "outlet_b": b[2], "text_a": a[3], "text_b": b[3],
                     "speaker_a": a[4], "speaker_b": b[4], "similarity": round(float(sim[k]), 4),
                     "p_contradiction": round(float(p_con[k]), 4), "p_entailment": round(float(p_ent[k]), 4),
                     "cluster_id_a": int(cluster[i[k]]), "cluster_id_b": int(cluster[j[k]]), "basis": basis[k]})
    schema = {c: PAIR_SCHEMA[c] for c in PAIR_COLUMNS if c != "topic_id"}
    return pl.DataFrame(rows, schema=schema)


def account_pairs(claims: pl.DataFrame, conflicts: AccountConflicts, vectors: np.ndarray, model,
                  texts: list[str], entailment_threshold: float, batch_size: int = 64,
                  flagged: pl.DataFrame | None = None) -> pl.DataFrame:
    """Conflicting who-did-it accounts as flagged pairs, scored by NLI; pairs NLI calls agreeing are dropped.

    Pairs already flagged by NLI are not repeated.
    """
    seen = set() if flagged is None else set(flagged.select("claim_id_a", "claim_id_b").iter_rows())
    ids = claims["claim_id"].to_list()
    keep = [k for k in range(len(conflicts.i))
            if (ids[conflicts.i[k]], ids[conflicts.j[k]]) not in seen and (ids[conflicts.j[k]], ids[conflicts.i[k]]) not in seen]
    i, j = conflicts.i[keep], conflicts.j[keep]
    if len(i) == 0:
        return _pair_frame(claims, i, j, np.zeros(0), np.zeros(0), np.zeros(0), [])
    from claimmatch.nli import predict_both_directions

    pairs = [(texts[a], texts[b]) for a, b in zip(i.tolist(), j.tolist(), strict=True)]
    ab, ba = predict_both_directions(model, pairs, batch_size)
    p_con, p_ent = contradiction_score(ab, ba), entailment_score(ab, ba)
    agree = p_ent >= entailment_threshold
    sim = np.einsum("ij,ij->i", vectors[i], vectors[j])
    acc = conflicts.accounts
    basis = [f"who did it: {acc[a].agent} vs {acc[b].agent} ({acc[a].act}: {acc[a].target} / {acc[b].target})"
             for a, b in zip(i.tolist(), j.tolist(), strict=True)]
    ok = np.flatnonzero(~agree)
    return _pair_frame(claims, i[ok], j[ok], sim[ok], p_con[ok], p_ent[ok], [basis[k] for k in ok])


def _camps(nodes: set[int], adj: dict[int, set[int]]) -> dict[int, int]:
    """Two sides with the most flagged pairs across them: a 2-colouring by BFS from the most connected
    cluster, then single flips while they put more pairs across (odd cycles have no perfect split)."""
    start = min(nodes, key=lambda n: (-len(adj[n]), n))
    side = {start: 0}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nb in sorted(adj[node]):
            if nb not in side:
                side[nb] = 1 - side[node]
                queue.append(nb)
    for _ in range(len(nodes)):
        changed = False
        for n in sorted(nodes):
            same = sum(side[nb] == side[n] for nb in adj[n])
            if same > len(adj[n]) - same:
                side[n] = 1 - side[n]
                changed = True
        if not changed:
            break
    if side[start] == 1:  # the most connected cluster always heads camp A
        side = {n: 1 - s for n, s in side.items()}
    return side


def assign_topics(pairs: pl.DataFrame, claims: pl.DataFrame) -> tuple[pl.DataFrame, list[Topic]]:
    """Connected parts of the cluster-level contradiction graph, each split into two camps."""
    if pairs.is_empty():
        return pairs.with_columns(pl.lit(None, dtype=pl.Int64).alias("topic_id")).select(PAIR_COLUMNS), []
    adj: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs.select("cluster_id_a", "cluster_id_b").iter_rows():
        adj[a].add(b)
        adj[b].add(a)
    seen: set[int] = set()
    components: list[tuple[list[int], dict[int, int]]] = []
    for start in sorted(adj):
        if start in seen:
            continue
        component = {start}
        queue = deque([start])
        seen.add(start)
        while queue:
            node = queue.popleft()
            for nb in adj[node] - component:
                component.add(nb)
                seen.add(nb)
                queue.append(nb)
        side = _camps(component, adj)
        components.append((sorted(side), side))
    strength = pairs.group_by("cluster_id_a", "cluster_id_b").agg(pl.col("p_contradiction").max())
    best = {(a, b): p for a, b, p in strength.iter_rows()}
    texts_by_cluster: dict[int, list[str]] = defaultdict(list)
    for cid, text in claims.select("cluster_id", "text").iter_rows():
        texts_by_cluster[cid].append(text)
    scored = []
    for nodes, side in components:
        node_set = set(nodes)
        top = max(p for (a, b), p in best.items() if a in node_set)
        n_pairs = pairs.filter(pl.col("cluster_id_a").is_in(nodes)).height
        scored.append((-n_pairs, -top, nodes[0], nodes, side, top, n_pairs))
    scored.sort(key=lambda t: t[:3])
    topic_of: dict[int, int] = {}
    topics = []
    for tid, (_, _, _, nodes, side, top, n_pairs) in enumerate(scored):
        for n in nodes:
            topic_of[n] = tid
        camps = ([n for n in nodes if side[n] == 0], [n for n in nodes if side[n] == 1])
        label = topic_label([t for n in nodes for t in texts_by_cluster[n]])
        topics.append(Topic(tid, label, camps, n_pairs, round(top, 4)))
    out = pairs.with_columns(pl.col("cluster_id_a").replace_strict(topic_of, return_dtype=pl.Int64).alias("topic_id"))
    out = out.sort(["topic_id", "p_contradiction", "claim_id_a", "claim_id_b"], descending=[False, True, False, False])
    return out.select(PAIR_COLUMNS), topics


_STOP = frozenset(
    "a an the of to in on at by for from with and or but as is are was were be been being has have had do does did "
    "not no it its this that these those there their they them he she his her we our you your i me my who which what "
    "when where why how than then so such also very more most much many some any all each other into over under about "
    "after before since until while during against between through up down out off again further once here both same "
    "own just only can will would should could may might must shall said says say told according new last first next "
    "one two three four five six seven eight nine ten per cent percent mr mrs ms dr".split()
)


def topic_label(texts: list[str], n: int = 3) -> str:
    """The phrases most shared across a topic's claims: capitalised names and frequent word pairs."""
    doc_freq: Counter[str] = Counter()
    for text in texts:
        tokens = re.findall(r"[A-Za-z][\w'’-]*", text)
        grams: set[str] = set()
        words = [t for t in tokens if t.lower() not in _STOP and len(t) > 2]
        grams.update(w.lower() if not w[0].isupper() else w for w in words)
        for x, y in zip(tokens, tokens[1:], strict=False):
            if x.lower() not in _STOP and y.lower() not in _STOP and len(x) > 2 and len(y) > 2:
                grams.add(f"{x} {y}")
        doc_freq.update(grams)
    ranked = sorted(doc_freq.items(), key=lambda kv: (-kv[1] * (1.5 if " " in kv[0] else 1.0), kv[0].lower()))
    chosen: list[str] = []
    for phrase, _ in ranked:
        low = phrase.lower()
        if any(low in c.lower() or c.lower() in low for c in chosen):
            continue
        chosen.append(phrase)
        if len(chosen) == n:
            break
    return ", ".join(chosen) if chosen else "untitled"
