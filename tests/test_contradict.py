"""Contradiction pairing, aggregation, topics and camps with a fake NLI model."""

from __future__ import annotations

import re

import numpy as np
import polars as pl

from claimmatch.cluster import cluster_claims
from claimmatch.contradict import assign_topics, flag_pairs, topic_label
from claimmatch.judge import NLIJudge, contradiction_score
from claimmatch.report import render_contradictions_md
from claimmatch.store import build_faiss

NEG = re.compile(r"\b(not|never|no)\b")


class FakeNLI:
    """Contradiction when exactly one side is negated; entailment for equal word sets; else neutral."""

    labels = ("entailment", "neutral", "contradiction")
    name = "fake-nli"

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        out = []
        for a, b in pairs:
            wa = set(NEG.sub("", a.lower()).split())
            wb = set(NEG.sub("", b.lower()).split())
            if bool(NEG.search(a.lower())) != bool(NEG.search(b.lower())):
                out.append([0.05, 0.05, 0.90])
            elif wa == wb:
                out.append([0.90, 0.05, 0.05])
            else:
                out.append([0.10, 0.80, 0.10])
        return np.array(out, dtype=np.float32)


def unit(rows) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def frame(texts: list[str], outlets: list[str], speakers: list[str | None] | None = None) -> pl.DataFrame:
    n = len(texts)
    return pl.DataFrame({
        "claim_id": [f"d{i}#000" for i in range(n)], "doc_id": [f"d{i}" for i in range(n)], "outlet": outlets,
        "title": ["t"] * n, "url": [None] * n, "text": texts, "core": texts,
        "speaker": speakers or [None] * n,
    }, schema_overrides={"url": pl.String, "speaker": pl.String})


def run_case(texts, outlets, vectors, within_outlet=False, speakers=None):
    claims = frame(texts, outlets, speakers)
    judge = NLIJudge(FakeNLI(), threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                     entailment_threshold=0.5)
    res = cluster_claims(claims, vectors, build_faiss(vectors), judge, k=5)
    flagged = flag_pairs(res.claims, res.candidates, res.judgement, 0.6, within_outlet)
    pairs, topics = assign_topics(flagged, res.claims)
    return res, pairs, topics


# Two camps: A and A' say the truce was broken by the regime; B and B' say it was not.
TEXTS = ["the regime broke the truce", "the regime broke the truce", "the regime did not break the truce",
         "the regime did not break the truce", "tourists visited the lighthouse"]
OUTLETS = ["o1", "o2", "o3", "o4", "o5"]
VECS = unit([[1, 0.00, 0], [1, 0.01, 0], [1, 0.30, 0], [1, 0.31, 0], [0, 0, 1]])


def test_near_duplicates_cluster_and_contradictions_are_never_clustered():
    res, pairs, _ = run_case(TEXTS, OUTLETS, VECS)
    cid = res.claims["cluster_id"].to_list()
    assert cid[0] == cid[1] and cid[2] == cid[3]
    assert cid[0] != cid[2], "cosine 0.95 but the NLI model calls it a contradiction: veto"
    # No flagged pair lies inside one cluster.
    assert (pairs["cluster_id_a"] != pairs["cluster_id_b"]).all()


def test_topic_has_two_camps_backed_by_outlets():
    res, pairs, topics = run_case(TEXTS, OUTLETS, VECS)
    assert len(pairs) == 4  # every cross pair between the two clusters
    assert len(topics) == 1 and pairs["topic_id"].unique().to_list() == [0]
    t = topics[0]
    camp_outlets = []
    for camp in t.camps:
        camp_outlets.append(sorted(res.claims.filter(pl.col("cluster_id").is_in(camp))["outlet"].to_list()))
    assert sorted(camp_outlets) == [["o1", "o2"], ["o3", "o4"]]
    assert "regime" in t.label.lower() or "truce" in t.label.lower()


def test_same_outlet_pairs_only_with_within_outlet():
    outlets = ["o1", "o1", "o1", "o1", "o1"]
    _, pairs, _ = run_case(TEXTS, outlets, VECS)
    assert pairs.is_empty()
    _, pairs, _ = run_case(TEXTS, outlets, VECS, within_outlet=True)
    assert len(pairs) == 4


def test_borderline_pair_needs_entailment_both_ways():
    # cosine ~0.6: between candidate (0.4) and duplicate (0.8) thresholds.
    vecs = unit([[1, 0, 0], [0.6, 0.8, 0], [0.6, 0, 0.8]])
    texts = ["prices rose sharply", "prices rose sharply", "prices rose in march"]
    res, _, _ = run_case(texts, ["a", "b", "c"], vecs)
    cid = res.claims["cluster_id"].to_list()
    assert cid[0] == cid[1], "entailed both ways: joins despite cosine 0.6"
    assert cid[2] not in (cid[0],), "neutral borderline pair stays apart"


def test_both_directions_must_say_contradiction():
    ab = np.array([[0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.0, 0.1, 0.9]], dtype=np.float32)
    ba = np.array([[0.1, 0.5, 0.4], [0.1, 0.1, 0.8], [0.0, 0.05, 0.95]], dtype=np.float32)
    assert np.allclose(contradiction_score(ab, ba), [0.4, 0.1, 0.9])


def test_topic_label_uses_shared_phrases():
    label = topic_label(["The Aleppo truce failed because of the regime.", "Nusra broke the Aleppo truce.",
                         "The Aleppo truce held."])
    assert label.split(", ")[0] in {"Aleppo truce", "Aleppo"}


def test_report_attributes_speakers_and_lists_camps():
    speakers = [None, "Rami Abdulrahman", None, None, None]
    res, pairs, topics = run_case(TEXTS, OUTLETS, VECS, speakers=speakers)
    md = render_contradictions_md(pairs, topics, res.claims, {
        "documents": 5, "outlets": 5, "claims": 5, "clusters": 3, "nli_model": "fake-nli",
        "contradiction_threshold": 0.6, "candidate_threshold": 0.4, "within_outlet": False, "candidates": 6})
    assert "### Topic 0:" in md and "**Camp A**" in md and "**Camp B**" in md
    assert "Rami Abdulrahman (as reported by **o2**)" in md
    assert "**o1** (own assertion)" in md
    assert md.index("## Topics") < md.index("## All flagged pairs")
    assert len(re.findall(r"^\d+\. p\(contradiction\) 0\.90", md, flags=re.M)) == 4


def test_contradictions_on_an_index_judge_the_field_the_index_embedded(articles, tmp_path):
    from claimmatch.config import Settings
    from claimmatch.pipeline import contradictions, run

    from .conftest import FakeEmbedder

    def judge():
        return NLIJudge(FakeNLI(), 0.8, 0.4, 0.6, 0.5)

    built = Settings(embed_field="text", index_dir=str(tmp_path / "indexes"), quiet=True)
    run([articles], tmp_path / "a", built, index="news", embedder=FakeEmbedder(), judge=judge())
    res = contradictions("news", tmp_path / "b", Settings(index_dir=str(tmp_path / "indexes"), quiet=True),
                         embedder=FakeEmbedder(), judge=judge())
    assert res.info["settings"]["embed_field"] == "text"
    assert (tmp_path / "b" / "contradictions.parquet").exists()


def test_who_did_it_conflicts_are_flagged_with_their_reason_and_agents():
    from claimmatch.accounts import find_conflicts
    from claimmatch.contradict import account_pairs

    from .conftest import FakeEmbedder

    texts = ["The truce was violated by the army.", "Rebel fighters keep breaching the truce.",
             "Tourists visited the lighthouse."]
    claims = frame(texts, ["o1", "o2", "o3"]).with_columns(pl.Series("cluster_id", [0, 1, 2]))
    vectors = FakeEmbedder().encode(texts)
    conflicts = find_conflicts(texts, ["o1", "o2", "o3"], [0, 1, 2], FakeEmbedder().encode)
    flagged = account_pairs(claims, conflicts, vectors, FakeNLI(), texts, entailment_threshold=0.5)
    pairs, topics = assign_topics(flagged, claims)
    assert len(pairs) == 1 and pairs["basis"][0].startswith("who did it: army vs Rebel fighters")
    assert pairs["p_contradiction"][0] == 0.1  # the NLI score is reported as it is, not made up
    md = render_contradictions_md(pairs, topics, claims, {
        "documents": 3, "outlets": 3, "claims": 3, "clusters": 3, "nli_model": "fake-nli",
        "contradiction_threshold": 0.8, "candidate_threshold": 0.45, "within_outlet": False, "candidates": 0})
    assert "1 flagged pair (0 by NLI, 1 who-did-it)" in md
    assert "(who did it, in this claim: army)" in md and "(who did it, in this claim: Rebel fighters)" in md
    assert "flagged as who did it: army vs Rebel fighters" in md
