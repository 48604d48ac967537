"""`claimmatch contradictions --index` after `index add` / `index remove`: only new pairs are scored, and the
reports equal a run from scratch, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimmatch.config import Settings
from claimmatch.judge import NLIJudge
from claimmatch.pipeline import contradictions
from claimmatch.store import remove_documents, update_index

from .conftest import FakeEmbedder
from .test_contradict import FakeNLI

FIRST = {
    "alpha": "Harbour closed\n\nThe harbour of Portville was closed on Monday after a storm. "
             "Rebel fighters shelled the old hospital on Sunday.",
    "beta": "Harbour shut\n\nThe harbour of Portville was not closed on Monday after a storm. "
            "The mayor said repairs would cost two million euros.",
    "gamma": "Lighthouse\n\nTourists visited the old lighthouse on Sunday afternoon. "
             "The army shelled the old hospital on Sunday.",
}
SECOND = {
    "delta": "Storm report\n\nThe harbour of Portville was never closed after the storm on Monday. "
             "Government troops shelled the old hospital on Sunday.",
    "epsilon": "Repairs\n\nThe mayor said repairs would not cost two million euros. "
               "Tourists visited the old lighthouse on Sunday afternoon.",
}
OUTPUTS = ("contradictions.parquet", "contradictions.md")


def write(path: Path, docs: dict[str, str]) -> Path:
    """A JSONL file of articles, each from its own outlet."""
    rows = []
    for name, text in docs.items():
        title, body = text.split("\n\n")
        rows.append(json.dumps({"id": name, "title": title, "text": body, "outlet": f"{name} news"}))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def judge() -> NLIJudge:
    return NLIJudge(FakeNLI(), threshold=0.8, candidate_threshold=0.3, contradiction_threshold=0.6,
                    entailment_threshold=0.5)


@pytest.fixture
def corpus(tmp_path):
    settings = Settings(index_dir=str(tmp_path / "indexes"), candidate_threshold=0.3, contradiction_threshold=0.6,
                        quiet=True)
    return tmp_path, settings, write(tmp_path / "first.jsonl", FIRST), write(tmp_path / "second.jsonl", SECOND)


def check(name: str, out: Path, settings: Settings, full: bool = False):
    return contradictions(name, out, settings, embedder=FakeEmbedder(), judge=judge(), full=full)


def same_reports(a: Path, b: Path) -> None:
    for name in OUTPUTS:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_rerun_after_add_scores_only_new_pairs_and_equals_a_run_from_scratch(corpus):
    tmp, settings, first, second = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    before = check("inc", tmp / "run1", settings).info["counts"]["claims"]
    assert (tmp / "indexes" / "inc" / "contradictions" / "scores.parquet").exists()
    update_index([second], "inc", settings, mode="add", embedder=FakeEmbedder())
    again = check("inc", tmp / "run2", settings)
    update_index([first, second], "scratch", settings, embedder=FakeEmbedder())
    scratch = check("scratch", tmp / "scratch", settings)
    same_reports(tmp / "run2", tmp / "scratch")
    a, s = again.info["counts"], scratch.info["counts"]
    assert s["contradiction_pairs"] >= 2 and s["contradiction_pairs_who_did_it"] >= 1
    assert a["claims_new"] == s["claims"] - before > 0 and a["claims_removed"] == 0
    assert a["nli_pairs_reused"] > 0 and 0 < a["nli_calls"] < s["nli_calls"]
    # run.json says what the clustering judge asked: every pair one way, the reverse only where it mattered
    assert s["nli_calls_cluster"] == s["nli_calls_cluster_forward"] + s["nli_calls_cluster_reverse"]
    assert s["nli_calls_cluster_forward"] == s["nli_calls_cluster_reverse"] + s["nli_calls_cluster_reverse_skipped"]
    assert s["nli_calls_cluster_reverse_skipped"] > 0 and s["model_calls_cluster"] == s["nli_calls_cluster"]
    # a third run with nothing new asks the model nothing
    third = check("inc", tmp / "run3", settings)
    assert third.info["counts"]["nli_calls"] == 0 and third.info["counts"]["claims_new"] == 0
    same_reports(tmp / "run3", tmp / "scratch")


def test_rerun_after_remove_drops_the_removed_claims(corpus):
    tmp, settings, first, second = corpus
    update_index([first, second], "inc", settings, embedder=FakeEmbedder())
    before = check("inc", tmp / "run1", settings).info["counts"]["claims"]
    remove_documents("inc", ["delta"], settings)
    again = check("inc", tmp / "run2", settings)
    update_index([first, write(tmp / "rest.jsonl", {"epsilon": SECOND["epsilon"]})], "scratch", settings,
                 embedder=FakeEmbedder())
    check("scratch", tmp / "scratch", settings)
    same_reports(tmp / "run2", tmp / "scratch")
    c = again.info["counts"]
    assert c["claims_removed"] == before - c["claims"] > 0 and c["nli_calls"] == 0
    assert "delta" not in (tmp / "run2" / "contradictions.md").read_text(encoding="utf-8")


def test_full_ignores_stored_scores_and_another_model_never_reuses_them(corpus, monkeypatch):
    tmp, settings, first, _ = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    base = check("inc", tmp / "run1", settings).info["counts"]["nli_calls"]
    assert check("inc", tmp / "run2", settings, full=True).info["counts"]["nli_calls"] == base
    monkeypatch.setattr(FakeNLI, "name", "another-nli")
    assert check("inc", tmp / "run3", settings).info["counts"]["nli_calls"] == base


def test_damaged_store_is_one_clear_error(corpus):
    from claimmatch.errors import ClaimmatchError

    tmp, settings, first, _ = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    check("inc", tmp / "run1", settings)
    (tmp / "indexes" / "inc" / "contradictions" / "scores.parquet").write_bytes(b"not parquet")
    with pytest.raises(ClaimmatchError, match="delete the folder"):
        check("inc", tmp / "run2", settings)
    check("inc", tmp / "run3", settings, full=True)  # --full starts over and rewrites the store
    check("inc", tmp / "run4", settings)


def test_rerun_reads_the_who_did_it_phrases_from_the_embedding_cache(corpus):
    from dataclasses import replace

    tmp, settings, first, _ = corpus
    settings = replace(settings, cache_dir=str(tmp / "cache"))
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    cold, warm = FakeEmbedder(), FakeEmbedder()
    one = contradictions("inc", tmp / "run1", settings, embedder=cold, judge=judge()).info["counts"]
    contradictions("inc", tmp / "run2", settings, embedder=warm, judge=judge())
    assert one["who_did_it_candidates"] >= 1 and cold.texts_seen > 0 and warm.texts_seen == 0
    same_reports(tmp / "run1", tmp / "run2")
