"""Fast tests of benchmarks.metrics and benchmarks.data (no model, no real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import data
from benchmarks import eval_dedup as dd
from benchmarks import metrics as ed

# Separable except for one negative at 0.7 sitting among the positives.
SCORES = np.array([0.1, 0.2, 0.3, 0.7, 0.6, 0.8, 0.9, 0.95])
LABELS = np.array([0, 0, 0, 0, 1, 1, 1, 1])


def test_classification_metrics_known_answer() -> None:
    m = ed.classification_metrics(SCORES, LABELS, 0.5)
    # tp=4 (0.6, 0.8, 0.9, 0.95), fp=1 (0.7), fn=0, tn=3
    assert m["accuracy"] == pytest.approx(7 / 8)
    assert m["precision"] == pytest.approx(4 / 5)
    assert m["recall"] == pytest.approx(1.0)
    assert m["f1"] == pytest.approx(2 * 0.8 / 1.8)
    assert m["predicted_positive"] == pytest.approx(5 / 8)


def test_threshold_is_inclusive() -> None:
    assert ed.confusion(np.array([0.5]), np.array([1]), 0.5) == (1, 0, 0, 0)


def test_best_accuracy_threshold() -> None:
    t = ed.best_accuracy_threshold(SCORES, LABELS)
    # 7/8 is reachable between 0.3 and 0.6 and between 0.7 and 0.8 (not at 0.65: 6/8); ties go high.
    assert ed.classification_metrics(SCORES, LABELS, t)["accuracy"] == pytest.approx(7 / 8)
    assert t == pytest.approx(0.75)


def test_best_f1_threshold() -> None:
    t = ed.best_f1_threshold(SCORES, LABELS)
    # F1 8/9 at t in (0.3, 0.6] beats 6/7 at t in (0.7, 0.8].
    assert t == pytest.approx(0.45)
    assert ed.classification_metrics(SCORES, LABELS, t)["f1"] == pytest.approx(8 / 9)


def test_perfectly_separable_accuracy_one() -> None:
    s = np.array([0.1, 0.2, 0.8, 0.9])
    y = np.array([0, 0, 1, 1])
    t = ed.best_accuracy_threshold(s, y)
    assert 0.2 < t <= 0.8
    assert ed.classification_metrics(s, y, t)["accuracy"] == 1.0


def test_all_positive_labels_threshold_calls_everything_positive() -> None:
    s = np.array([0.3, 0.4])
    y = np.array([1, 1])
    assert ed.classification_metrics(s, y, ed.best_accuracy_threshold(s, y))["accuracy"] == 1.0


def test_precision_threshold() -> None:
    # Lowest threshold with precision 1.0 is above the stray negative at 0.7.
    assert ed.precision_threshold(SCORES, LABELS, 1.0) == pytest.approx(0.75)
    assert ed.precision_threshold(SCORES, LABELS, 0.8) == pytest.approx(0.45)
    assert ed.precision_threshold(np.array([0.9]), np.array([0]), 0.5) is None


def test_roc_auc_and_spearman() -> None:
    # 16 pos/neg pairs, one misordered (0.6 < 0.7).
    assert ed.roc_auc(SCORES, LABELS) == pytest.approx(15 / 16)
    assert ed.spearman(np.array([1.0, 2.0, 3.0]), np.array([0.0, 2.5, 5.0])) == pytest.approx(1.0)


def test_recall_at_and_max_threshold_for_recall() -> None:
    s = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    rel = np.array([0, 0, 1, 1, 1, 1, 1, 1, 1, 1], dtype=bool)
    m = ed.recall_at(s, rel, 0.4)
    assert m["recall"] == pytest.approx(7 / 8)
    assert m["kept_fraction"] == pytest.approx(0.7)
    assert m["other_kept_fraction"] == 0.0
    t = ed.max_threshold_for_recall(s, rel, 0.75)  # may lose 2 of 8 relevant pairs
    assert t == pytest.approx(0.5)
    assert ed.recall_at(s, rel, t)["recall"] >= 0.75


def test_quartiles() -> None:
    q = ed.quartiles(np.array([0.0, 1.0, 2.0, 3.0, 4.0]))
    assert (q["min"], q["q1"], q["median"], q["q3"], q["max"]) == (0.0, 1.0, 2.0, 3.0, 4.0)


def test_minhash_jaccard_identical_and_disjoint() -> None:
    a = "The central bank raised interest rates by a quarter point on Tuesday."
    assert dd.minhash_jaccard(a, a) == 1.0
    assert dd.minhash_jaccard(a, "Rain fell across northern provinces overnight") == pytest.approx(0.0, abs=0.05)
    # Case and punctuation do not matter; deterministic across calls (fixed seed).
    assert dd.minhash_jaccard(a, a.upper().replace(".", "!")) == 1.0
    b = "The central bank raised rates on Tuesday."
    assert dd.minhash_jaccard(a, b) == dd.minhash_jaccard(a, b)
    assert 0.0 < dd.minhash_jaccard(a, b) < 1.0


def test_shingles_are_unigrams_and_bigrams() -> None:
    assert dd.shingles("Stocks fell, sharply.") == {
        "stocks",
        "fell",
        "sharply",
        "stocks fell",
        "fell sharply",
    }


def test_tfidf_cosine() -> None:
    corpus = ["stocks fell sharply", "the bank raised rates", "rain fell in the north", "the team won"]
    vec = dd.fit_tfidf(corpus)
    sims = dd.tfidf_cosine(
        vec,
        ["stocks fell sharply", "stocks fell sharply", "stocks fell"],
        ["Stocks fell sharply", "the team won", "stocks fell sharply"],
    )
    assert sims[0] == pytest.approx(1.0)
    assert sims[1] == pytest.approx(0.0)
    assert 0.0 < sims[2] < 1.0


def test_evaluate_mrpc_method_all_positive_baseline() -> None:
    y_te = np.array([1, 1, 1, 0])
    r = dd.evaluate_mrpc_method(None, None, np.array([1, 0]), y_te)
    assert r["acc_threshold"] is None
    assert r["test_accuracy"] == pytest.approx(0.75)
    assert r["test_f1"] == pytest.approx(2 * 0.75 / 1.75)
    assert r["test_roc_auc"] == 0.5


def test_load_mrpc_reads_quoted_tsv(tmp_path: Path) -> None:
    p = tmp_path / "paraphrase" / "mrpc.tsv"
    p.parent.mkdir()
    p.write_text(
        "split\tlabel\tid1\tid2\tsentence1\tsentence2\n"
        'train\t1\t1\t2\t"He said ""yes""."\tHe agreed.\n'
        "test\t0\t3\t4\tA b.\tC d.\n",
        encoding="utf-8",
    )
    d = data.mrpc(tmp_path)
    assert d["train"][0].s1 == 'He said "yes".'
    assert d["train"][0].label == 1.0
    assert len(d["test"]) == 1
