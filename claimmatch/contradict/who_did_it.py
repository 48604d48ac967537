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

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


# The bfloat16 pre-pass's similarities are within 0.006 of the float32 ones for unit vectors (inputs
# rounded to 8 significant bits, float32 sums, a bfloat16 result); cells this far below the threshold and
# above are computed again in float32.
_BF16_MARGIN = 1 / 64
_EXACT_ROWS = 64  # rows per float32 product over the cells the bf16 pass kept
_BF16_MIN_TARGETS = 4096
_TEST_PAIRS = 65_536  # pairs given the embedding tests at once (two float32 vectors each, per test)


def _row_groups(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first, inverse, counts, members): one group per distinct vector (byte-equal rows), its first row, each
    row's group, the group sizes and the rows of each group in group order (``members`` cut by ``counts``)."""
    flat = np.ascontiguousarray(vectors).view(np.dtype((np.void, vectors.dtype.itemsize * vectors.shape[1]))).ravel()
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    inverse = inverse.ravel().astype(np.int64)
    return first, inverse, np.bincount(inverse, minlength=len(first)), np.argsort(inverse, kind="stable")


def _expand(owner: np.ndarray, group: np.ndarray, counts: np.ndarray, starts: np.ndarray,
            members: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, row) for every row of each ``group``: the pairs (o, g) spelled out over g's members."""
    lens = counts[group]
    total = int(lens.sum())
    offsets = np.repeat(starts[group] - (np.cumsum(lens) - lens), lens)
    return np.repeat(owner, lens), members[offsets + np.arange(total, dtype=np.int64)]


def _true_cells(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """np.nonzero of a mostly-false 2-d mask, in the same (row-major) order, three times as fast: it
    looks for the non-zero 8-byte words first."""
    flat = np.ascontiguousarray(mask).reshape(-1)
    body = len(flat) - len(flat) % 8
    words = np.flatnonzero(flat[:body].view(np.uint64))
    cells = (words[:, None] * 8 + np.arange(8)).ravel()
    cells = np.concatenate([cells[flat[cells]], body + np.flatnonzero(flat[body:])])
    rows, cols = np.divmod(cells, mask.shape[1])
    return rows, cols


@functools.cache
def fast_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AMX or AVX-512 BF16), where torch's bf16
    product is about ten times faster than float32; elsewhere bf16 is emulated and slower."""
    try:
        import torch  # noqa: F401
        flags = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except (ImportError, OSError):
        return False
    return bool(re.search(r"\b(amx_bf16|avx512_bf16)\b", flags))


def target_partners(targets: np.ndarray, k: int, threshold: float, *, max_cells: int = 2_000_000,
                    bf16: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Frame pairs (x, y), x != y, where y is among the ``k`` frames (x itself included) whose targets are
    most similar to x's and that similarity is at least ``threshold``: the first test of who-did-it.

    What the all-pairs pass gave (argpartition of each frame's row of similarities), without that pass:
    frames with byte-equal target vectors share one row, so rows are computed per distinct target; a
    target whose frames at or above the threshold number at most k keeps them all, whatever the ties
    (they are the top k of any selection); one with more keeps the top k, and only where ties straddle
    the k-th place is its whole row built to break them as argpartition did. Which cells reach the
    threshold is found with a bfloat16 product where the CPU has one (``bf16`` None: ask
    :func:`fast_bf16`); cells within its error bound of the threshold and above are then computed in
    float32 like the rest, so the bound decides nothing.
    """
    n = len(targets)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    first, inverse, counts, members = _row_groups(targets)
    starts = np.cumsum(counts) - counts
    uniq = np.ascontiguousarray(targets[first])
    m = len(uniq)
    if bf16 is None:  # below a few thousand targets the float32 product is quicker than setting bf16 up
        bf16 = fast_bf16() and m >= _BF16_MIN_TARGETS
    if bf16:
        import torch

        low = torch.from_numpy(np.asarray(uniq, np.float32)).to(torch.bfloat16)
        floor = float(torch.tensor(threshold - _BF16_MARGIN).to(torch.bfloat16))
        if floor > threshold - _BF16_MARGIN:  # rounded up: one bf16 step (at most 2^-7 below 1) lower
            floor -= 2.0 ** -7
    xs, ys = [], []
    block = max(2, (4 if bf16 else 1) * max_cells // m)  # a bf16 cell and its flag: 3 bytes, a float32 one 5
    for start in range(0, m, block):
        stop = min(start + block, m)
        if bf16:
            near = torch.ge(low[start:stop] @ low.T, floor).numpy()  # compared in bf16: floor is one
            cu, cv = _true_cells(near)
            del near
            sims = np.empty(len(cu), uniq.dtype)
            # float32 values of the cells the bf16 pass kept, by chunks of rows over their kept columns
            bounds = np.searchsorted(cu, np.arange(0, stop - start + _EXACT_ROWS, _EXACT_ROWS))
            for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
                if a == b:
                    continue
                cols, where = np.unique(cv[a:b], return_inverse=True)
                r0 = int(cu[a])
                exact = uniq[start + r0:start + int(cu[b - 1]) + 1] @ uniq[cols].T
                sims[a:b] = exact[cu[a:b] - r0, where.ravel()]
            keep = ~(sims < threshold)
            cu, cv, sims = cu[keep], cv[keep], sims[keep]
        else:
            exact = uniq[start:stop] @ uniq.T
            cu, cv = _true_cells(~(exact < threshold))
            sims = exact[cu, cv]
            del exact
        reach = np.bincount(cu, weights=counts[cv], minlength=stop - start)  # frames at or above, per row
        sparse = reach[cu] <= k
        own_g, own_rows = [cu[sparse] + start], [cv[sparse]]  # group -> group pairs
        own_f, own_frames = [], []  # group -> frame pairs
        for u in np.flatnonzero(reach > k).tolist():
            lo, hi = np.searchsorted(cu, [u, u + 1])
            v, s = cv[lo:hi], sims[lo:hi]
            order = np.argsort(-s, kind="stable")
            v, s = v[order], s[order]
            upto = np.cumsum(counts[v])
            kth = s[np.searchsorted(upto, k)]  # the k-th largest similarity of the row, counting frames
            if upto[np.searchsorted(-s, -kth, side="right") - 1] == k:  # no tie straddles the k-th place
                top = v[s >= kth]
                own_g.append(np.full(len(top), u + start))
                own_rows.append(top)
                continue
            row = -(uniq[u + start] @ uniq.T)[inverse]
            top = np.argpartition(row, k - 1)[:k]
            top = top[~(-row[top] < threshold)]
            own_f.append(np.full(len(top), u + start))
            own_frames.append(top)
        g, v = np.concatenate(own_g), np.concatenate(own_rows)
        g_f, y_f = _expand(g, v, counts, starts, members)
        g_f = np.concatenate([g_f, *own_f]).astype(np.int64)
        y_f = np.concatenate([y_f, *own_frames]).astype(np.int64)
        pair, x = _expand(np.arange(len(g_f)), g_f, counts, starts, members)
        y = y_f[pair]
        keep = x != y
        xs.append(x[keep])
        ys.append(y[keep])
    return np.concatenate(xs), np.concatenate(ys)


def frame_pairs(claims: pl.DataFrame, clusters: np.ndarray, claim_vectors: np.ndarray,
                encode: Callable[[list[str]], np.ndarray], *, predicate_threshold: float, target_threshold: float,
                agent_threshold: float, subject_threshold: float, other_verb_claim_threshold: float = 0.45,
                within_outlet: bool = False, max_partners: int = 50, max_cells: int = 2_000_000,
                bf16: bool | None = None) -> FramePairs:
    """Pairs of claims giving the same act on the same target to different agents.

    ``encode`` returns L2-normalised vectors (the run's embedder), so similarities are dot products.
    Each frame is compared with the ``max_partners`` frames whose targets are most similar
    (:func:`target_partners`, which holds at most ``max_cells`` similarities at a time and takes ``bf16``).
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
    xs, ys = target_partners(np.asarray(patients), min(max_partners + 1, len(rows)), target_threshold,
                             max_cells=max_cells, bf16=bf16)
    # The cheap tests on every (frame, partner) at once: another agent, another cluster and outlet; each
    # pair left is kept once and gets the embedding tests, on arrays.
    keep = agent_code[xs] != agent_code[ys]
    lo, hi = np.minimum(rows[xs], rows[ys]), np.maximum(rows[xs], rows[ys])
    keep &= cl[lo] != cl[hi]
    if not within_outlet:
        keep &= outlets[lo] != outlets[hi]
    codes = np.unique(lo[keep] * len(claims) + hi[keep])
    del xs, ys, lo, hi, keep
    tests = (agents, act_vec, claim_vectors, preds, (agent_threshold, subject_threshold, predicate_threshold,
                                                      other_verb_claim_threshold))
    found: list[np.ndarray] = []
    for start in range(0, len(codes), _TEST_PAIRS):
        i, j = codes[start:start + _TEST_PAIRS] // len(claims), codes[start:start + _TEST_PAIRS] % len(claims)
        ok = _embedding_tests(np.searchsorted(rows, i), np.searchsorted(rows, j), i, j, *tests)
        found.append(codes[start:start + _TEST_PAIRS][ok])
    kept = np.concatenate(found) if found else np.zeros(0, np.int64)
    return FramePairs(kept // len(claims), kept % len(claims))


def _pair_passes(x: int, y: int, i: int, j: int, agents, act_vec, claim_vectors, preds, thresholds) -> bool:
    """The embedding tests of one pair of frames (x, y) of claims (i, j): what the array version must match."""
    agent_threshold, subject_threshold, predicate_threshold, other_verb_claim_threshold = thresholds
    if float(agents[x] @ agents[y]) >= agent_threshold:
        return False
    va = np.asarray(claim_vectors[i], dtype=np.float32)
    vb = np.asarray(claim_vectors[j], dtype=np.float32)
    claim_sim = float(va @ vb)
    if claim_sim < subject_threshold:
        return False
    # Different verbs: their phrases must be close AND the claims must share a subject, since
    # phrase embeddings lean on the shared target more than on the verb.
    return not (preds[x] != preds[y] and (float(act_vec[x] @ act_vec[y]) < predicate_threshold
                                          or claim_sim < other_verb_claim_threshold))


def _dots(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise dot products in float32 and how far each may be from the one-pair ``a[k] @ b[k]``: both
    sums are within d·2⁻²⁴·|a||b| of the exact value, whatever their order."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    dots = np.einsum("ij,ij->i", a, b).astype(np.float64)
    slack = 2 * (a.shape[1] + 2) * 2.0 ** -24 * np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12
    return dots, slack


def _embedding_tests(x, y, i, j, agents, act_vec, claim_vectors, preds, thresholds) -> np.ndarray:
    """:func:`_pair_passes` on arrays of pairs: decided on row-wise dot products where every one is
    farther from its threshold than its rounding slack, and pair by pair where one is not."""
    agent_threshold, subject_threshold, predicate_threshold, other_verb_claim_threshold = thresholds
    agent_sim, agent_slack = _dots(agents[x], agents[y])
    claim_sim, claim_slack = _dots(np.asarray(claim_vectors)[i], np.asarray(claim_vectors)[j])
    act_sim, act_slack = _dots(act_vec[x], act_vec[y])
    same_verb = np.fromiter((preds[a] == preds[b] for a, b in zip(x.tolist(), y.tolist(), strict=True)), bool,
                            count=len(x))
    ok = ((agent_sim < agent_threshold) & (claim_sim >= subject_threshold)
          & (same_verb | ((act_sim >= predicate_threshold) & (claim_sim >= other_verb_claim_threshold))))
    close = ((np.abs(agent_sim - agent_threshold) <= agent_slack)
             | (np.abs(claim_sim - subject_threshold) <= claim_slack)
             | (~same_verb & ((np.abs(act_sim - predicate_threshold) <= act_slack)
                              | (np.abs(claim_sim - other_verb_claim_threshold) <= claim_slack))))
    for k in np.flatnonzero(close).tolist():
        ok[k] = _pair_passes(int(x[k]), int(y[k]), int(i[k]), int(j[k]), agents, act_vec, claim_vectors, preds,
                             thresholds)
    return ok




