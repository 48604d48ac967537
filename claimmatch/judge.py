"""Pair judges: decide whether two retrieved claims state the same thing.

Clustering retrieves candidates by cosine, then asks a judge. A judge returns, per pair, whether the two
claims are the same claim, the similarity to use when linking clusters, and a veto (the two must never
share a cluster, e.g. NLI says they contradict). Judges are pluggable: cosine now, NLI on top.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from claimmatch.nli_rules import contradiction_score, entailment_score


@dataclass
class Judgement:
    same: np.ndarray  # bool: verified same claim
    link_sim: np.ndarray  # float: similarity used by average-link grouping
    veto: np.ndarray  # bool: never put these two in one cluster
    nli_ab: np.ndarray | None = None  # (n, 3) NLI probabilities for (a, b), when a model ran
    nli_ba: np.ndarray | None = None  # (n, 3) for (b, a); the contradiction stage scores its own pairs


class PairJudge(Protocol):
    name: str
    threshold: float  # duplicate threshold on link_sim
    min_similarity: float  # retrieve candidate pairs down to this cosine

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str], sims: np.ndarray) -> Judgement: ...


class CosineJudge:
    """Same claim iff cosine ≥ threshold. Fast, but blind to negation and opposing claims."""

    name = "cosine"

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.min_similarity = threshold

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str], sims: np.ndarray) -> Judgement:
        sims = np.asarray(sims, dtype=np.float32)
        return Judgement(same=sims >= self.threshold, link_sim=sims, veto=np.zeros(len(sims), dtype=bool))


class NLIJudge:
    """Cosine plus NLI in both directions.

    A pair the model calls a contradiction (either direction) is vetoed, whatever its cosine. A pair above
    the duplicate threshold is the same claim unless vetoed. A borderline pair (candidate ≤ cosine <
    threshold) is the same claim only when entailment holds in both directions; it then links at the
    threshold, so average-link grouping treats it as just similar enough.
    """

    name = "nli"

    def __init__(self, model, threshold: float, candidate_threshold: float, contradiction_threshold: float,
                 entailment_threshold: float, batch_size: int = 64) -> None:
        self.model = model
        self.threshold = threshold
        self.min_similarity = candidate_threshold
        self.contradiction_threshold = contradiction_threshold
        self.entailment_threshold = entailment_threshold
        self.batch_size = batch_size
        self.seconds = 0.0  # time spent in the model, for pairs/s in run.json

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str], sims: np.ndarray) -> Judgement:
        sims = np.asarray(sims, dtype=np.float32)
        n = len(sims)
        if n == 0:
            empty = np.zeros(0, dtype=bool)
            none = np.zeros((0, 3), np.float32)
            return Judgement(empty, sims, empty, none, none)
        pairs = list(zip(texts_a, texts_b, strict=True))
        start = time.perf_counter()
        probs = self.model.predict(pairs + [(b, a) for a, b in pairs], batch_size=self.batch_size)
        self.seconds += time.perf_counter() - start
        ab, ba = probs[:n], probs[n:]
        p_ent = entailment_score(ab, ba)
        veto = contradiction_score(ab, ba) >= self.contradiction_threshold
        entailed = p_ent >= self.entailment_threshold
        same = ~veto & ((sims >= self.threshold) | entailed)
        link = np.where(same & (sims < self.threshold), np.float32(self.threshold), sims)
        return Judgement(same=same, link_sim=link.astype(np.float32), veto=veto, nli_ab=ab, nli_ba=ba)

