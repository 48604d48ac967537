"""`claimmatch contradictions --index` after `index add` / `index remove`: only new pairs are scored, and the
reports equal a run from scratch, byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from claimmatch.cluster import cluster_claims
from claimmatch.config import Settings
from claimmatch.contradict import store
from claimmatch.judge import NLIJudge
from claimmatch.pipeline import contradictions
from claimmatch.store import build_faiss, remove_documents, update_index

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
    # story_threshold: the bag-of-words documents of one story here share a third of their words
    settings = Settings(index_dir=str(tmp_path / "indexes"), candidate_threshold=0.3, contradiction_threshold=0.6,
                        story_threshold=0.3, quiet=True)
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
    assert 0 < a["judge_verdicts_reused"] < a["candidate_pairs"] and a["claims_unchanged"] == before
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


@pytest.mark.parametrize("name", ["scores.parquet", "judged.parquet", "seen.parquet"])
def test_damaged_store_is_one_clear_error(corpus, name):
    from claimmatch.errors import ClaimmatchError

    tmp, settings, first, _ = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    check("inc", tmp / "run1", settings)
    (tmp / "indexes" / "inc" / "contradictions" / name).write_bytes(b"not parquet")
    with pytest.raises(ClaimmatchError, match="delete the folder"):
        check("inc", tmp / "run2", settings)
    check("inc", tmp / "run3", settings, full=True)  # --full starts over and rewrites the store
    assert check("inc", tmp / "run4", settings).info["counts"]["judge_verdicts_reused"] > 0


def test_a_store_of_the_earlier_format_is_ignored_then_replaced(corpus):
    tmp, settings, first, _ = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    base = check("inc", tmp / "run1", settings).info["counts"]
    state = tmp / "indexes" / "inc" / "contradictions" / "state.json"
    old = json.loads(state.read_text(encoding="utf-8"))
    state.write_text(json.dumps({**old, "version": 1}), encoding="utf-8")  # what the first format wrote
    again = check("inc", tmp / "run2", settings).info["counts"]
    assert again["nli_calls"] == base["nli_calls"] and "judge_verdicts_reused" not in again
    assert json.loads(state.read_text(encoding="utf-8"))["version"] == store.STATE_VERSION
    assert check("inc", tmp / "run3", settings).info["counts"]["judge_verdicts_reused"] > 0
    same_reports(tmp / "run1", tmp / "run3")


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


# Clustering with the judge's stored verdicts: synthetic claims whose cosines straddle the thresholds, so
# adding claims merges and splits earlier clusters and pushes old pairs out of each other's neighbours.
WORDS = "harbour storm hospital rebels mayor repairs truce army border election vote bank rates oil".split()


def synthetic(seed: int = 3, topics: int = 8, per: int = 9):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, 32))
    rows, vecs = [], []
    for t in range(topics):
        for m in range(per):
            vecs.append(centres[t] + rng.normal(scale=0.55, size=32))
            words = [WORDS[(t + x) % len(WORDS)] for x in range(3)] + (["not"] if rng.random() < 0.2 else [])
            if rng.random() < 0.4:
                words.append(WORDS[rng.integers(len(WORDS))])
            rows.append({"claim_id": f"d{t:02d}{m:02d}#0.0", "doc_id": f"d{t:02d}{m:02d}", "outlet": f"o{m % 4}",
                         "text": " ".join(words)})
    v = np.asarray(vecs, np.float32)
    return pl.DataFrame(rows), v / np.linalg.norm(v, axis=1, keepdims=True)


def incremental_clusters(claims, vectors, rows, earlier):
    """Cluster ``rows`` of the corpus reusing the verdicts of ``earlier`` (claims, result), as the store does."""
    old_claims, old = earlier
    saved = store.Stored(None, judged=store.verdict_table(old_claims["claim_id"].to_list(), old.candidates,
                                                          old.judgement))
    ids = old_claims["claim_id"].to_list()
    order = sorted(range(len(ids)), key=ids.__getitem__)
    saved.seen = pl.DataFrame({"claim_id": [ids[r] for r in order],
                               "claim_key": store.claim_keys(old_claims)[order]}).cast(store.SEEN_SCHEMA)
    now = claims[rows.tolist()]
    _, row_of = store.unchanged(saved, now["claim_id"].to_list(), store.claim_keys(now))
    known = store.known_verdicts(saved, row_of, len(now))
    j = judge()
    res = cluster_claims(now, vectors[rows], build_faiss(vectors[rows]), j, k=5, known=known)
    return res, j


def test_stored_verdicts_give_the_clusters_of_a_run_from_scratch_when_claims_join_merge_and_leave():
    claims, v = synthetic()
    n = len(claims)
    rng = np.random.default_rng(1)
    first = np.sort(rng.choice(n, size=int(n * 0.75), replace=False))
    old = cluster_claims(claims[first.tolist()], v[first], build_faiss(v[first]), judge(), k=5)
    # add the rest (interleaved in claim-id order), drop a few old claims, and change one claim's text
    later = np.sort(np.concatenate([np.setdiff1d(np.arange(n), first), first[5:]]))
    changed = claims.with_columns(pl.when(pl.col("claim_id") == claims["claim_id"][int(first[7])])
                                  .then(pl.lit("harbour storm not")).otherwise(pl.col("text")).alias("text"))
    for corpus, rows in ((claims, np.arange(n)), (changed, later)):
        scratch_judge = judge()
        scratch = cluster_claims(corpus[rows.tolist()], v[rows], build_faiss(v[rows]), scratch_judge, k=5)
        inc, inc_judge = incremental_clusters(corpus, v, rows, (claims[first.tolist()], old))
        assert inc.claims.equals(scratch.claims) and inc.clusters.equals(scratch.clusters)
        for name in ("same", "veto", "link_sim"):
            assert np.array_equal(getattr(inc.judgement, name), getattr(scratch.judgement, name)), name
        assert 0 < inc.reused < len(scratch.candidates)
        assert inc_judge.forward_asked == scratch_judge.forward_asked - inc.reused
        # the new claims really changed old clusters: some merged, some split, some old pairs left the neighbours
        before = dict(zip(old.claims["claim_id"].to_list(), old.claims["cluster_id"].to_list(), strict=True))
        kept = scratch.claims.filter(pl.col("claim_id").is_in(list(before)))
        kept = kept.with_columns(pl.col("claim_id").replace_strict(before).alias("before"))
        assert kept.group_by("cluster_id").agg(pl.col("before").n_unique())["before"].max() > 1  # merged
        assert kept.group_by("before").agg(pl.col("cluster_id").n_unique())["cluster_id"].max() > 1  # split
    # exactly the pairs judged before whose two claims are still there and unchanged come from the store
    def id_pairs(table, res):
        ids = table["claim_id"].to_list()
        return {(ids[i], ids[j]) for i, j in zip(res.candidates.i.tolist(), res.candidates.j.tolist(), strict=True)}

    edited = claims["claim_id"][int(first[7])]
    inc, _ = incremental_clusters(changed, v, later, (claims[first.tolist()], old))
    reusable = {p for p in id_pairs(changed[later.tolist()], inc) & id_pairs(claims[first.tolist()], old)
                if edited not in p}
    assert inc.reused == len(reusable) > 0


def test_other_judge_settings_never_reuse_stored_verdicts(corpus):
    tmp, settings, first, second = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    check("inc", tmp / "run1", settings)
    update_index([second], "inc", settings, mode="add", embedder=FakeEmbedder())

    def stricter(out: str, full: bool = False):
        judge = NLIJudge(FakeNLI(), threshold=0.85, candidate_threshold=0.3, contradiction_threshold=0.6,
                         entailment_threshold=0.5)
        return contradictions("inc", tmp / out, settings, embedder=FakeEmbedder(), judge=judge, full=full)

    assert stricter("run2").info["counts"]["judge_verdicts_reused"] == 0
    stricter("scratch", full=True)
    same_reports(tmp / "run2", tmp / "scratch")
    third = stricter("run3").info["counts"]  # the stricter judge's own verdicts are reused
    assert third["judge_verdicts_reused"] == third["candidate_pairs"] > 0
    same_reports(tmp / "run3", tmp / "scratch")


def test_rerun_compares_only_new_who_did_it_targets_and_equals_full(corpus, monkeypatch):
    from claimmatch.contradict import who_did_it

    tmp, settings, first, second = corpus
    update_index([first], "inc", settings, embedder=FakeEmbedder())
    check("inc", tmp / "run1", settings)
    assert len(pl.read_parquet(tmp / "indexes" / "inc" / "contradictions" / "targets.parquet")) > 0
    update_index([second], "inc", settings, mode="add", embedder=FakeEmbedder())
    rows: list[int] = []
    real = who_did_it._cells_above
    monkeypatch.setattr(who_did_it, "_cells_above", lambda u, r, *a: rows.append(len(r)) or real(u, r, *a))
    again = check("inc", tmp / "run2", settings)
    check("inc", tmp / "full", settings, full=True)
    same_reports(tmp / "run2", tmp / "full")
    assert again.info["counts"]["contradiction_pairs_who_did_it"] >= 1
    assert rows[0] < rows[1]  # the rerun computed the rows of targets it had not seen only (none here)


def test_a_changed_document_counts_all_its_claims_as_changed(tmp_path):
    """A verdict on two claims that name nothing depends on their documents' other claims (one story or
    two, claimmatch.story.apart_stories): when a document changes, all its claims, an unchanged sentence too,
    are judged again (a replaced document is written at new rows), so the incremental run still equals a run
    from scratch."""
    settings = Settings(index_dir=str(tmp_path / "indexes"), candidate_threshold=0.3, contradiction_threshold=0.6,
                        quiet=True)

    def docs(path: Path, second: str) -> Path:
        rows = [{"id": "one", "text": "The harbour was closed after the storm. Fishing boats stayed in port.",
                 "outlet": "one news"},
                {"id": "two", "text": f"The harbour was closed after the storm. {second}", "outlet": "two news"}]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path

    before = docs(tmp_path / "before.jsonl", "Bread prices rose sharply in every bakery.")  # two stories
    after = docs(tmp_path / "after.jsonl", "Fishing boats stayed in port.")  # now one story
    update_index([before], "inc", settings, embedder=FakeEmbedder())
    first = check("inc", tmp_path / "run1", settings)
    ids = first.claims.filter(pl.col("text").str.starts_with("The harbour"))["cluster_id"].to_list()
    assert len(ids) == 2 and ids[0] != ids[1]  # two stories: the unnamed claim is two claims
    update_index([after], "inc", settings, mode="add", embedder=FakeEmbedder())
    again = check("inc", tmp_path / "run2", settings)
    assert again.info["counts"]["claims_unchanged"] == 2  # document two's claims, the same sentence too, are new
    update_index([after], "scratch", settings, embedder=FakeEmbedder())
    scratch = check("scratch", tmp_path / "scratch", settings)
    ids = scratch.claims.filter(pl.col("text").str.starts_with("The harbour"))["cluster_id"].to_list()
    assert len(ids) == 2 and ids[0] == ids[1]  # one story: one claim
    assert again.claims.equals(scratch.claims)
    for name in ("clusters.parquet", "clusters.md", *OUTPUTS):
        assert (tmp_path / "run2" / name).read_bytes() == (tmp_path / "scratch" / name).read_bytes(), name
