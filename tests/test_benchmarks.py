"""Every evaluation/benchmark module imports from a plain checkout and answers --help (no PYTHONPATH hacks)."""

from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import benchmarks
from benchmarks import metrics

LIBRARY = {"metrics", "data", "results", "sentence_frames"}
RUNNABLE = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name not in LIBRARY)


@pytest.mark.parametrize("name", RUNNABLE)
def test_module_runs_help(name: str, capsys) -> None:
    module = importlib.import_module(f"benchmarks.{name}")
    assert hasattr(module, "main"), f"benchmarks.{name} has no main()"
    with pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0
    assert "usage" in capsys.readouterr().out


def test_reliability_table_counts_and_rates() -> None:
    scores = np.array([0.1, 0.2, 0.55, 0.9, 0.95, 1.0])
    labels = np.array([0, 0, 1, 1, 0, 1])
    rows = metrics.reliability_table(scores, labels, [0.0, 0.5, 0.9, 1.0])
    assert [r["n"] for r in rows] == [2, 1, 3]
    assert rows[0]["positive_rate"] == 0.0 and rows[2]["positive_rate"] == pytest.approx(2 / 3, abs=1e-4)


def test_multiclass_metrics_focus_class() -> None:
    gold = np.array([0, 1, 2, 2, 1])
    pred = np.array([0, 1, 2, 1, 1])
    m = metrics.multiclass_metrics(gold, pred, ["e", "n", "c"], focus=2)
    assert m["accuracy"] == pytest.approx(0.8)
    assert m["c_vs_rest"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(0.6667, abs=1e-4)}
    assert m["confusion"][2] == [0, 1, 1]


def test_seed_diagnosis_extraction_verdicts_and_refusing_rule() -> None:
    from benchmarks.seed_diagnosis import _fit, refusal
    from claimmatch.config import Settings

    span = (100, 150)  # a labelled span of 50 characters
    assert _fit({"char_start": 95, "char_end": 150}, *span) == (0.909, "ok")
    assert _fit({"char_start": 60, "char_end": 170}, *span)[1] == "wide"  # 110 characters for 50
    assert _fit({"char_start": 120, "char_end": 150}, *span)[1] == "fragment"  # covers 60 % of the span
    s = Settings()
    weak, strong = np.array([0.2, 0.7, 0.1], np.float32), np.array([0.9, 0.05, 0.05], np.float32)
    contra = np.array([0.01, 0.01, 0.98], np.float32)
    assert refusal(0.6, strong, strong, False, False, s) == "same"
    assert refusal(0.6, contra, contra, True, False, s).startswith("veto")
    assert refusal(0.8, weak, weak, False, True, s) == "polarity clash above the duplicate threshold"
    assert refusal(0.6, weak, weak, True, False, s).endswith("mean entailment too low")
    assert refusal(0.6, weak, weak, False, False, s).endswith("frames do not agree")


def test_corpus_projection_fits_calls_per_claim_as_a_power_of_size() -> None:
    from benchmarks.nli_corpus import fit_power, projection

    c, b = fit_power([(1_000, 4.0), (10_000, 8.0)])
    assert b == pytest.approx(np.log(2) / np.log(10)) and c * 100_000 ** b == pytest.approx(16.0)

    def run(n: int, per_claim: float) -> dict:
        calls = round(n * per_claim)
        return {"claims": n, "first": {"model_calls": calls, "nli_seconds": calls / 100.0, "seconds": calls / 100.0 + n / 1000,
                                       "model_calls_cluster": calls // 2, "peak_rss_mib": 500.0 + n / 100}}

    runs = [run(1_000, 4.0), run(10_000, 8.0)]
    runs[1]["incremental"] = {"claims_new": 1_000, "model_calls": 16_000, "nli_seconds": 160.0, "seconds": 171.0,
                              "claims": 11_000}
    proj = projection(runs, sizes=(100_000,), add=1_000)
    row = proj["rows"][0]
    assert proj["pairs_per_s"] == 100.0 and row["model_calls"] == 1_600_000  # 16 calls per claim at 100k
    assert row["nli_hours"] == round(1_600_000 / 100 / 3600, 2) and row["other_hours"] == round(100 / 3600, 2)
    assert row["incremental_model_calls"] == 32_000  # 16 per new claim at 10k, doubled by the density growth
    assert row["peak_rss_mib"] == 500 + 1_000 and proj["rss_mib_per_1000_claims"] == 10.0  # a line through both
    assert projection(runs[:1]) is None  # one size cannot give a growth rate


def test_arc_end_to_end_draws_distinct_pairs_and_scores_links_and_clusters() -> None:
    import polars as pl

    from benchmarks.arc_end_to_end import sample_pairs, score_run

    rows = [{"text_a": f"claim {k % 3}", "text_b": f"post {k}", "label": ("agree", "disagree")[k % 2]}
            for k in range(12)]
    pairs = sample_pairs(rows, 2, seed=0)
    assert pairs == sample_pairs(rows, 2, seed=0) and [p["label"] for p in pairs] == ["disagree", "agree"] * 2
    assert len({p["text_b"] for p in pairs}) == 4 and len({p["text_a"] for p in pairs}) == 3  # only 3 claims
    assert len(sample_pairs(rows, 10, seed=0)) == 12  # a pool too small gives what it has, posts still distinct

    pairs = [{"text_a": "a", "text_b": "b", "label": lab} for lab in ("disagree", "agree", "disagree", "agree")]
    claims = pl.DataFrame({"doc_id": ["arc0-claim", "arc0-post", "arc1-claim", "arc1-post", "arc1-post",
                                      "arc2-claim", "arc2-post"],
                           "cluster_id": [0, 1, 2, 3, 2, 4, 5]})  # arc3 gave no claim at all
    contra = pl.DataFrame({"doc_id_a": ["arc0-claim", "arc2-post"], "doc_id_b": ["arc0-post", "arc1-claim"],
                           "basis": ["nli", "who-did-it"]})  # the second joins two different pairs
    out = score_run(pairs, claims, contra, np.array([0.8, 0.5, 0.7, np.nan]), story_threshold=0.75)
    assert out["disagree_linked"] == {"share": 0.5, "count": 1, "of": 2}
    assert out["agree_linked"]["count"] == 0 and out["agree_same_cluster"] == {"share": 0.5, "count": 1, "of": 2}
    assert out["disagree_same_cluster"]["count"] == 0
    assert out["linked_by_basis"] == {"disagree": {"nli": 1}, "agree": {"nli": 0}}
    assert out["contradiction_rows"] == {"within_a_pair": 1, "across_pairs": 1, "total": 2}
    assert out["pairs_without_claims"] == {"claim_doc": 1, "post_doc": 1}
    assert out["story_cosine"]["disagree"]["at_or_above_story_threshold"] == 1
    assert out["story_cosine"]["agree"]["n"] == 1


def test_title_frames_counts_a_title_right_when_one_claim_has_an_accepted_predicate() -> None:
    from benchmarks.title_frames import score

    items = [{"doc_id": "a", "split": "dev", "accept": ["post", "forecast"]},
             {"doc_id": "b", "split": "dev", "accept": ["threaten"]},
             {"doc_id": "c", "split": "dev", "accept": None},  # a listing: no act, not counted
             {"doc_id": "d", "split": "test", "accept": ["cut"]}]
    titles = {"a": [{"predicate": "profit", "agent": None}, {"predicate": "forecast", "agent": "Ciena"}],
              "b": [{"predicate": "strike", "agent": "CANADIAN SEAFARERS THREATEN"}]}
    assert score(items, titles) == {"dev": {"titles": 2, "predicate_right": 1, "with_agent": 2},
                                    "test": {"titles": 1, "predicate_right": 0, "with_agent": 0}}
