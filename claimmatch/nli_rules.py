"""How the two NLI directions of a claim pair become one score, and when the second direction is needed.

A small NLI model is not symmetric: (a, b) and (b, a) can disagree. Contradiction is symmetric, so the
shipped rule takes the weaker direction ("min": SICK test contradiction F1 0.866 vs 0.856 forward-only,
docs/NLI_MODEL.md); the rule is a setting (``Settings.contradiction_rule``) so it can be switched after
calibration on dev data. Every caller combines directions through :func:`contradiction_score`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

RULES = ("min", "mean", "max", "forward")
ENTAILMENT, CONTRADICTION = 0, 2


def contradiction_score(ab: np.ndarray, ba: np.ndarray, rule: str = "min") -> np.ndarray:
    """One p(contradiction) per pair from the (n, 3) probabilities of both directions."""
    a, b = ab[:, CONTRADICTION], ba[:, CONTRADICTION]
    if rule == "min":
        out = np.minimum(a, b)
    elif rule == "mean":
        out = (a + b) / 2
    elif rule == "max":
        out = np.maximum(a, b)
    elif rule == "forward":
        out = a
    else:
        raise ValueError(f"unknown contradiction rule {rule!r}; use one of {', '.join(RULES)}")
    return out.astype(np.float32)


def entailment_score(ab: np.ndarray, ba: np.ndarray) -> np.ndarray:
    """Entailment must hold both ways for a paraphrase, so the weaker direction counts."""
    return np.minimum(ab[:, ENTAILMENT], ba[:, ENTAILMENT]).astype(np.float32)


def needs_reverse(ab: np.ndarray, rule: str, threshold: float) -> np.ndarray:
    """Pairs that may be flagged, so whose (b, a) direction is asked: every other pair cannot be flagged.

    Probabilities lie in [0, 1], so under "min" (and "forward") a pair whose forward score is below the
    threshold can never be flagged, and under "mean" neither can one below ``2 * threshold - 1``; those
    pairs skip the second model call. A flagged pair always gets both directions, since its entailment
    (and under "max" its score) is reported.
    """
    a = ab[:, CONTRADICTION]
    if rule in ("min", "forward"):
        return a >= threshold
    if rule == "mean":
        return a >= 2 * threshold - 1
    if rule == "max":
        return np.ones(len(a), dtype=bool)
    raise ValueError(f"unknown contradiction rule {rule!r}; use one of {', '.join(RULES)}")


def same_words(texts_a: Sequence[str], texts_b: Sequence[str]) -> np.ndarray:
    """Pairs whose two texts are the same words, case, punctuation and spacing aside ("Japan's Sony Corp." /
    "Japans Sony Corp"). Such a pair is never a contradiction, whatever the model says: the shipped model
    gives p(contradiction) >= 0.5 to 2 % of claims paired with themselves (13 of 600 AG News claims), which
    vetoed exact duplicates out of one cluster and then flagged them as contradicting each other."""
    def words(text: str) -> str:
        return re.sub(r"[\W_]+", "", text.lower())

    return np.fromiter((words(a) == words(b) for a, b in zip(texts_a, texts_b, strict=True)), bool,
                       count=len(texts_a))
