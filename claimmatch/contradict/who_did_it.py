"""Who did it: claims giving the same act on the same target to different agents, from claim frames.

Outlets disagree most often about *who* did something (broke the truce, shelled the town, leaked the
memo), and an NLI model calls such pairs neutral: both sentences can be true. The claims table gives
each claim a frame (``agent``, ``predicate`` lemma, ``patient``); two asserted, non-negated claims from
different outlets conflict when their predicates are the same lemma or their verb phrases (predicate +
patient) are close by embedding, their
patients are the same thing (embedding similarity), their agents are different parties (embedding
similarity below a threshold), and the claims themselves are about one subject. Whatever the verb.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

# Verbs that say nothing about who did something: copulas, possession, reporting, light verbs.
LIGHT_VERBS = frozenset(
    "be have do say tell make take get go come give put seem become appear remain know think see want need "
    "use include mean let keep begin start continue try".split())
PRONOUNS = frozenset("it he she they we i you him her them us me this that these those which who what there "
                      "one some all both each others".split())
_DETERMINERS = frozenset("the a an its their his her our your this that these those some".split())


def normalize(phrase: str) -> str:
    """Lower case, no leading determiner, no hyphens ("The cease-fire" → "ceasefire")."""
    words = re.findall(r"[\w’']+", phrase.lower().replace("-", ""))
    while words and words[0] in _DETERMINERS:
        words.pop(0)
    return " ".join(words)


def _is_party(phrase: str | None) -> bool:
    norm = normalize(phrase or "")
    return bool(norm) and norm not in PRONOUNS


@dataclass
class FramePairs:
    """Row pairs (i, j) whose frames conflict, with the phrases that make them conflict."""

    i: np.ndarray
    j: np.ndarray

    def __len__(self) -> int:
        return len(self.i)


def eligible_rows(claims: pl.DataFrame) -> np.ndarray:
    """Claims whose frame names an act, a target and a party that did it, asserted and not negated."""
    stance = claims["stance"].to_list()
    negated = claims["negated"].to_list()
    rows = []
    for k, (agent, pred, patient) in enumerate(claims.select("agent", "predicate", "patient").iter_rows()):
        if (pred and pred.lower() not in LIGHT_VERBS and _is_party(agent) and _is_party(patient)
                and not negated[k] and stance[k] in (None, "asserts")):
            rows.append(k)
    return np.asarray(rows, dtype=np.int64)


def _codes(values: list[str]) -> list[int]:
    """An integer per value, equal for equal values (so equality is tested on arrays)."""
    seen: dict[str, int] = {}
    return [seen.setdefault(v, len(seen)) for v in values]


def frame_pairs(claims: pl.DataFrame, clusters: np.ndarray, claim_vectors: np.ndarray,
                encode: Callable[[list[str]], np.ndarray], *, predicate_threshold: float, target_threshold: float,
                agent_threshold: float, subject_threshold: float, other_verb_claim_threshold: float = 0.45,
                within_outlet: bool = False,
                max_partners: int = 50, max_cells: int = 2_000_000) -> FramePairs:
    """Pairs of claims giving the same act on the same target to different agents.

    ``encode`` returns L2-normalised vectors (the run's embedder), so similarities are dot products.
    Each frame is compared with the ``max_partners`` frames whose targets are most similar, a block of
    rows at a time. A block holds at most ``max_cells`` similarities (about 12 bytes each with the top-k
    indices): a fixed number of rows would make that transient grow with the number of frames.
    """
    rows = eligible_rows(claims)
    empty = FramePairs(np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(rows) < 2:
        return empty
    pick = rows.tolist()
    agent_col, pred_col, patient_col = (claims[c].to_list() for c in ("agent", "predicate", "patient"))
    agents_n = [normalize(agent_col[r]) for r in pick]
    preds = [pred_col[r].lower() for r in pick]
    patients_n = [normalize(patient_col[r]) for r in pick]
    patients = encode(patients_n)
    agents = encode(agents_n)
    # Two different verbs name one act when their verb phrases ("violate ceasefire" / "breach ceasefire")
    # are close: single-word embeddings cannot tell "violate"/"breach" (0.43) from "help"/"result" (0.43).
    acts = [f"{p} {t}" for p, t in zip(preds, patients_n, strict=True)]
    act_vec = encode(acts)
    outlets = np.asarray(claims["outlet"].to_list(), dtype=object)
    cl = np.asarray(clusters)
    agent_code = np.asarray(_codes(agents_n), dtype=np.int64)
    found: set[tuple[int, int]] = set()
    k = min(max_partners + 1, len(rows))
    block = max(1, max_cells // len(rows))
    for start in range(0, len(rows), block):
        neg_sim = patients[start:start + block] @ patients.T
        np.negative(neg_sim, out=neg_sim)  # in place: argpartition picks the k most similar targets
        top = (np.argpartition(neg_sim, k - 1, axis=1)[:, :k] if k < len(rows)
               else np.tile(np.arange(len(rows)), (len(neg_sim), 1)))
        # The cheap tests on every (frame, partner) at once: a close target, another agent, another cluster
        # and outlet; the few pairs left get the embedding tests one by one, in the same order as before.
        offs = np.repeat(np.arange(len(neg_sim)), top.shape[1])
        ys = top.ravel().astype(np.int64)
        xs = offs + start
        keep = (ys != xs) & ~(-neg_sim[offs, ys] < target_threshold) & (agent_code[xs] != agent_code[ys])
        lo, hi = np.minimum(rows[xs], rows[ys]), np.maximum(rows[xs], rows[ys])
        keep &= cl[lo] != cl[hi]
        if not within_outlet:
            keep &= outlets[lo] != outlets[hi]
        for x, y, i, j in zip(xs[keep].tolist(), ys[keep].tolist(), lo[keep].tolist(), hi[keep].tolist(),
                              strict=True):
            if (i, j) in found:
                continue
            if float(agents[x] @ agents[y]) >= agent_threshold:
                continue
            va = np.asarray(claim_vectors[i], dtype=np.float32)
            vb = np.asarray(claim_vectors[j], dtype=np.float32)
            claim_sim = float(va @ vb)
            if claim_sim < subject_threshold:
                continue
            # Different verbs: their phrases must be close AND the claims must share a subject, since
            # phrase embeddings lean on the shared target more than on the verb.
            if preds[x] != preds[y] and (float(act_vec[x] @ act_vec[y]) < predicate_threshold
                                         or claim_sim < other_verb_claim_threshold):
                continue
            found.add((i, j))
    if not found:
        return empty
    keys = sorted(found)
    return FramePairs(np.asarray([a for a, _ in keys], np.int64), np.asarray([b for _, b in keys], np.int64))

