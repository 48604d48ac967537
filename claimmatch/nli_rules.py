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


# Words whose addition can turn a text against itself: negations, contrasts, denials, hedges that flip it.
_TURNING = frozenset(
    "not no never nor neither none nothing nobody nowhere without cannot nt but however although though yet "
    "except unless false untrue myth hoax rumour rumor deny denies denied denial refuse refuses refused reject "
    "rejects rejected fail fails failed failure almost nearly barely hardly scarcely former ex instead rather "
    "than only".split())


_NT_STEMS = frozenset("do does did is was are were wo would ca could should has have had must need".split())


def _tokens(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "").replace("'", ""))
    return ["nt" if w.endswith("nt") and w[:-2] in _NT_STEMS else w for w in words]


def restates(texts_a: Sequence[str], texts_b: Sequence[str]) -> np.ndarray:
    """Pairs where one text says the other with words added and none of those words can turn it: the
    shorter's words appear in the longer in order ("escalated into a trade war" / "escalated into a new trade
    war"; "... members of his band" / "... members of his band and Mr Nogar"), and the added words hold no
    negation, contrast, denial or flipping hedge ("not", "but", "denied", "almost", "former"). Such a pair
    is never a contradiction, whatever the model says: v7 gives both pairs above p(contradiction) 0.95, and
    2 % of AG News claims paired with themselves p(contradiction) >= 0.5 (13 of 600), which vetoed exact
    duplicates out of one cluster and then flagged them. One text in other case, punctuation or spacing
    ("Japan's Sony Corp." / "Japans sony corp") is the case with nothing added."""
    out = np.zeros(len(texts_a), dtype=bool)
    for k, (a, b) in enumerate(zip(texts_a, texts_b, strict=True)):
        short, long = sorted((_tokens(a), _tokens(b)), key=len)
        if not short:
            continue
        extra: list[str] = []
        matched = 0
        for w in long:
            if matched < len(short) and w == short[matched]:
                matched += 1
            else:
                extra.append(w)
        out[k] = matched == len(short) and not any(w in _TURNING for w in extra)
    return out

