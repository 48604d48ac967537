"""Scores for every evaluation, from scikit-learn, plus the threshold sweeps claimmatch calibrates with.

A pair is predicted positive when its score is >= the threshold (inclusive everywhere). Sweeps try the
midpoints between distinct scores, so a chosen threshold never sits exactly on a training example, and
break ties towards the higher threshold (fewer false merges or flags).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)


def prf(pred: np.ndarray, gold: np.ndarray) -> dict:
    """Precision, recall and F1 of boolean predictions against boolean gold labels."""
    p, r, f, _ = precision_recall_fscore_support(np.asarray(gold, dtype=bool), np.asarray(pred, dtype=bool),
                                                 average="binary", zero_division=0)
    return {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4)}


def confusion(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[int, int, int, int]:
    """(tp, fp, fn, tn) when a pair is called positive at score >= threshold."""
    pred = np.asarray(scores) >= threshold
    tn, fp, fn, tp = confusion_matrix(np.asarray(labels).astype(bool), pred, labels=[False, True]).ravel()
    return int(tp), int(fp), int(fn), int(tn)


def classification_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    y = np.asarray(labels).astype(bool)
    pred = np.asarray(scores) >= threshold
    p, r, f, _ = precision_recall_fscore_support(y, pred, average="binary", zero_division=0)
    return {"threshold": float(threshold), "accuracy": float(accuracy_score(y, pred)) if len(y) else 0.0,
            "precision": float(p), "recall": float(r), "f1": float(f),
            "predicted_positive": float(pred.mean()) if len(y) else 0.0}


def multiclass_metrics(gold: np.ndarray, pred: np.ndarray, labels: Sequence[str], focus: int | None = None) -> dict:
    """Accuracy, macro F1, per-class P/R/F1, confusion matrix; ``focus`` adds that class vs the rest."""
    idx = list(range(len(labels)))
    p, r, f, s = precision_recall_fscore_support(gold, pred, labels=idx, zero_division=0)
    present = [i for i in idx if (gold == i).any() or (pred == i).any()]  # sklearn's macro over present labels
    out = {
        "n": int(len(gold)),
        "accuracy": float(accuracy_score(gold, pred)) if len(gold) else 0.0,
        "macro_f1": float(np.mean([f[i] for i in present])) if present else 0.0,
        "per_class": {name: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                             "support": int(s[i])} for i, name in enumerate(labels)},
        "confusion": confusion_matrix(gold, pred, labels=idx).tolist(),
    }
    if focus is not None:
        out[f"{labels[focus]}_vs_rest"] = {k: float(v) for k, v in prf(pred == focus, gold == focus).items()}
    return out


def candidate_thresholds(scores: np.ndarray) -> np.ndarray:
    """Midpoints between distinct scores, plus one below and one above all of them."""
    u = np.unique(np.asarray(scores, dtype=float))
    if u.size == 0:
        return np.array([0.0])
    mids = (u[:-1] + u[1:]) / 2
    return np.concatenate([[u[0] - 1e-6], mids, [u[-1] + 1e-6]])


def _sweep(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tp and fp counts for every candidate threshold, in O(n log n)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    t = candidate_thresholds(s)
    pos, neg = np.sort(s[y]), np.sort(s[~y])
    tp = pos.size - np.searchsorted(pos, t, side="left")
    fp = neg.size - np.searchsorted(neg, t, side="left")
    return t, tp, fp


def best_accuracy_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising accuracy; ties go to the highest threshold."""
    t, tp, fp = _sweep(scores, labels)
    n_neg = int(np.sum(~np.asarray(labels).astype(bool)))
    correct = tp + (n_neg - fp)
    return float(t[np.flatnonzero(correct == correct.max())[-1]])


def best_f1_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    """Threshold maximising F1 of the positive class; ties go to the highest threshold."""
    t, tp, fp = _sweep(scores, labels)
    n_pos = int(np.sum(np.asarray(labels).astype(bool)))
    denom = 2 * tp + fp + (n_pos - tp)
    f1 = np.divide(2 * tp, denom, out=np.zeros(t.size), where=denom > 0)
    return float(t[np.flatnonzero(f1 == f1.max())[-1]])


def precision_threshold(scores: np.ndarray, labels: np.ndarray, target: float) -> float | None:
    """Lowest threshold whose precision reaches target (max recall at that precision); None if none does."""
    t, tp, fp = _sweep(scores, labels)
    predicted = tp + fp
    prec = np.divide(tp, predicted, out=np.zeros(t.size), where=predicted > 0)
    ok = np.flatnonzero((prec >= target) & (predicted > 0))
    return float(t[ok[0]]) if ok.size else None


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    y = np.asarray(labels).astype(int)
    if y.min(initial=0) == y.max(initial=0):
        return float("nan")
    return float(roc_auc_score(y, np.asarray(scores, dtype=float)))


def spearman(scores: np.ndarray, gold: np.ndarray) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(np.asarray(scores, dtype=float), np.asarray(gold, dtype=float)).statistic)


def quartiles(values: np.ndarray) -> dict[str, float]:
    v = np.asarray(values, dtype=float)
    q = np.quantile(v, [0.0, 0.25, 0.5, 0.75, 1.0])
    return {"n": int(v.size), "min": q[0], "q1": q[1], "median": q[2], "q3": q[3], "max": q[4],
            "mean": float(v.mean())}


def recall_at(scores: np.ndarray, relevant: np.ndarray, threshold: float) -> dict[str, float]:
    """Recall of the relevant pairs and the share of all pairs kept at score >= threshold."""
    s = np.asarray(scores, dtype=float)
    r = np.asarray(relevant).astype(bool)
    kept = s >= threshold
    return {"threshold": float(threshold), "recall": float(np.mean(kept[r])) if r.any() else 0.0,
            "kept_fraction": float(np.mean(kept)),
            "other_kept_fraction": float(np.mean(kept[~r])) if (~r).any() else 0.0}


def max_threshold_for_recall(scores: np.ndarray, relevant: np.ndarray, target: float) -> float:
    """Highest threshold that still keeps a ``target`` share of the relevant pairs."""
    s = np.sort(np.asarray(scores, dtype=float)[np.asarray(relevant).astype(bool)])
    k = int(np.floor((1.0 - target) * s.size + 1e-9))
    return float(s[min(k, s.size - 1)])


def reliability_table(scores: np.ndarray, labels: np.ndarray, edges: Sequence[float]) -> list[dict]:
    """Per score bin: pairs and the observed share of positives (how far a score can be trusted)."""
    s = np.asarray(scores, dtype=float)
    y = np.asarray(labels).astype(bool)
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (s >= lo) & ((s < hi) if hi < edges[-1] else (s <= hi))
        rows.append({"bin": f"{lo:.2f}-{hi:.2f}", "n": int(m.sum()),
                     "positive_rate": round(float(y[m].mean()), 4) if m.any() else None})
    return rows
