"""Whether two claims come from reports of one story: the cosine of their documents' mean claim vectors.

Outlets disagree about one event. NLI and who-did-it frames both read two claims as if they were about the
same event: "Motorola to cut 1,000 jobs" / "Eli Lilly to cut 575 jobs" (who-did-it: same act, same
target, other agents) and "Rashard Lewis scored 27 points" / "Charlie Hodgson scores 27 points" (NLI:
contradiction 0.97). On a corpus of many stories such flags pair two stories (AG News test:
2,587 flags; every one a reader checked was two events). The mean of a document's claim vectors places the document; reports
of one story lie close (the five seed articles: 0.85 to 0.94 pairwise), two unrelated AG News articles
rarely do (99.9th percentile 0.55). A one-claim document (a headline in a table) is its claim.

The same test serves the same-claim judgement (:func:`apart_stories`): a claim that names nothing ("The
blast occurred.", "As investors bet.", "The companies have signed a patent cross-license agreement") is
about whatever its article is about, so two such claims are one claim only when their articles report one
story.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_BLOCK = 4_096  # rows summed (and pairs compared) at a time: 12 MiB of float64 rows, 6 MiB of float32 pairs


def story_similarity(doc_ids: Sequence[str], vectors, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Cosine of the mean claim vectors of the documents of rows ``i`` and ``j``, pair by pair (float32).

    Only the documents of the pairs are summed, over all their rows, in row order (the same sums
    whatever the pairs asked), so the result depends on the two documents' claims alone: an index that
    grows gives an unchanged document the same vector. ``vectors`` may be a memmap-backed row source.
    """
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    if len(i) == 0:
        return np.zeros(0, np.float32)
    _, codes = np.unique(np.asarray(doc_ids, dtype=object), return_inverse=True)
    return _story(codes, vectors, i, j)


def _story(codes: np.ndarray, vectors, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """:func:`story_similarity` over document codes (equal codes, one document)."""
    need = np.unique(np.concatenate([codes[i], codes[j]]))
    rows = np.flatnonzero(np.isin(codes, need))
    slot = np.searchsorted(need, codes[rows])
    sums = np.zeros((len(need), vectors.shape[1]), np.float64)
    for start in range(0, len(rows), _BLOCK):
        part = rows[start:start + _BLOCK]
        np.add.at(sums, slot[start:start + _BLOCK], np.asarray(vectors[part], np.float64))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    unit = (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
    del sums
    a, b = np.searchsorted(need, codes[i]), np.searchsorted(need, codes[j])
    out = np.empty(len(i), np.float32)
    for start in range(0, len(i), _BLOCK):
        s = slice(start, start + _BLOCK)
        out[s] = np.einsum("ij,ij->i", unit[a[s]], unit[b[s]])
    return out


def apart_stories(doc_ids: Sequence[str], vectors, i: np.ndarray, j: np.ndarray, unnamed: np.ndarray,
                  threshold: float | None) -> np.ndarray:
    """Pairs (rows ``i``, ``j``) that are never one claim: both claims name nothing (``unnamed``: no proper
    noun in either), they come from two documents of more than one claim each, and those documents do not
    report one story (story similarity below ``threshold``; None or below 0: off).

    A document of one claim (a headline in a table, a one-line post) gives its claim no context to be
    about: it says what it says ("People are getting dumber." / a post's "We are getting dumber.", ARC), so
    the rule leaves it out.

    Readers rejected such pairs as one claim in every cluster of an AG News run that had one (six of 50
    sampled: "As investors bet." / "As investors worried.", "At least nine had died." / "Nine people were
    confirmed dead.", two patent deals of other companies), and none of the clusters they accepted has one
    (docs/EVALUATION.md, "Claims that name nothing").
    """
    i, j = np.asarray(i, np.int64), np.asarray(j, np.int64)
    out = np.zeros(len(i), dtype=bool)
    if threshold is None or threshold < 0 or len(i) == 0:
        return out
    _, codes, counts = np.unique(np.asarray(doc_ids, dtype=object), return_inverse=True, return_counts=True)
    several = counts[codes] > 1
    ask = np.flatnonzero(np.asarray(unnamed, dtype=bool) & (codes[i] != codes[j]) & several[i] & several[j])
    if len(ask):
        out[ask] = _story(codes, vectors, i[ask], j[ask]) < threshold
    return out
