"""Topics and camps: the contradiction graph over near-duplicate clusters, split into two sides.

A topic is a connected part of the graph whose nodes are clusters and whose edges are flagged pairs;
its camps are the two sides of the split that puts the most flagged pairs across camps, so every
outlet repeating a version lands on the same side.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict, deque
from dataclasses import dataclass

import polars as pl

from claimmatch.contradict.pairs import PAIR_COLUMNS


@dataclass
class Topic:
    topic_id: int
    label: str
    camps: tuple[list[int], list[int]]  # cluster ids on each side
    pair_count: int
    max_p_contradiction: float


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
