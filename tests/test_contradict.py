"""The contradiction stage (claimmatch.contradict) with fake NLI and embedding models."""

from __future__ import annotations

import itertools
import random
import re

import numpy as np
import polars as pl
import pytest

from claimmatch.cluster import Candidates, cluster_claims
from claimmatch.config import Settings
from claimmatch.contradict import find_contradictions, topic_label
from claimmatch.contradict.camps import _camps
from claimmatch.contradict.candidates import nli_candidates, shared_subject_pairs
from claimmatch.contradict.who_did_it import frame_pairs, is_doer, is_one_thing, one_target_in_words
from claimmatch.judge import NLIJudge
from claimmatch.nli_rules import contradiction_score, needs_reverse
from claimmatch.report import render_contradictions_md
from claimmatch.store import build_faiss

from .conftest import FakeEmbedder

NEG = re.compile(r"\b(not|never|no)\b")


class FakeNLI:
    """Contradiction when exactly one side is negated; entailment for equal word sets; else neutral."""

    labels = ("entailment", "neutral", "contradiction")
    name = "fake-nli"

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        self.calls += len(pairs)
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
        return np.array(out, dtype=np.float32).reshape(-1, 3)


def unit(rows) -> np.ndarray:
    v = np.array(rows, dtype=np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def frame(texts: list[str], outlets: list[str], speakers: list[str | None] | None = None) -> pl.DataFrame:
    """A claims table; its frames give polarity only (a "not", "never" or "no" negates), as FakeNLI reads it."""
    n = len(texts)
    empty = [[] for _ in range(n)]
    return pl.DataFrame({
        "claim_id": [f"d{i}#000" for i in range(n)], "doc_id": [f"d{i}" for i in range(n)], "outlet": outlets,
        "title": ["t"] * n, "url": [None] * n, "text": texts, "core": texts,
        "speaker": speakers or [None] * n, "predicate": [None] * n, "entities": empty, "numbers": empty,
        "dates": empty, "negated": [bool(NEG.search(t.lower())) for t in texts],
    }, schema_overrides={"url": pl.String, "speaker": pl.String, "predicate": pl.String,
                         "entities": pl.List(pl.String), "numbers": pl.List(pl.String), "dates": pl.List(pl.String)})


SETTINGS = Settings(threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                    entailment_threshold=0.5, neighbors=5, quiet=True)


def run_case(texts, outlets, vectors, within_outlet=False, speakers=None, claims=None, encode=None, nli=None):
    claims = frame(texts, outlets, speakers) if claims is None else claims
    nli = nli or FakeNLI()
    judge = NLIJudge(nli, threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                     entailment_threshold=0.5)
    res = cluster_claims(claims, vectors, build_faiss(vectors), judge, k=5)
    settings = Settings(**{**SETTINGS.as_dict(), "within_outlet": within_outlet})
    found = find_contradictions(res.claims, vectors, build_faiss(vectors), res.claims["cluster_id"].to_numpy(), nli,
                                settings, encode=encode)
    return res, found.pairs, found.topics

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


class SaysContradiction:
    """A model that calls every pair of different texts a contradiction, as v7 does parallel statements."""

    name = "says-contradiction"

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        return np.array([[0.9, 0.05, 0.05] if a == b else [0.01, 0.02, 0.97] for a, b in pairs],
                        dtype=np.float32).reshape(-1, 3)


@pytest.mark.parametrize("second, numbers, reason", [
    ("Men's tennis is exciting as well.", [[], []], None),  # parallel statements: no reason in the frames
    ("The rally drew 9,000 people.", [["12,000"], ["9,000"]], "numbers that do not fit"),
    ("The rally did not draw 12,000 people.", [["12,000"], ["12,000"]], "one negates the other"),
])
def test_an_nli_flag_needs_a_reason_in_the_frames(second, numbers, reason):
    flagged = reason is not None
    first = "Women's tennis is exciting." if not flagged else "The rally drew 12,000 people."
    claims = frame([first, second], ["o1", "o2"]).with_columns(pl.Series("numbers", numbers, dtype=pl.List(pl.String)))
    vectors = unit([[1.0, 0.55, 0.0], [1.0, 0.0, 0.55]])  # one story, candidates, not one cluster
    model = SaysContradiction()
    res = cluster_claims(claims, vectors, build_faiss(vectors), NLIJudge(model, 0.8, 0.4, 0.99, None), k=2)
    clusters = res.claims["cluster_id"].to_numpy()
    found = find_contradictions(res.claims, vectors, build_faiss(vectors), clusters, model, SETTINGS)
    assert (len(found.pairs) == 1) is flagged
    if flagged:  # the report says why
        assert found.pairs["reason"].to_list() == [reason]
        md = render_contradictions_md(found.pairs, found.topics, res.claims, {
            "documents": 2, "outlets": 2, "claims": 2, "clusters": 2, "nli_model": "says-contradiction",
            "contradiction_threshold": 0.6, "candidate_threshold": 0.4, "within_outlet": False, "candidates": 1})
        assert f"flagged by NLI: {reason}" in md
    loose = Settings(**{**SETTINGS.as_dict(), "nli_flag_needs_clash": False})
    assert len(find_contradictions(res.claims, vectors, build_faiss(vectors), clusters, model, loose).pairs) == 1


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


def framed(rows: list[tuple[str, str, str | None, str | None, str | None]], negated=None, stance=None) -> pl.DataFrame:
    """A hand-made claims table with frames: (outlet, text, agent, predicate, patient) per claim."""
    n = len(rows)
    return frame([r[1] for r in rows], [r[0] for r in rows]).with_columns(
        pl.Series("agent", [r[2] for r in rows], dtype=pl.String),
        pl.Series("predicate", [r[3] for r in rows], dtype=pl.String),
        pl.Series("patient", [r[4] for r in rows], dtype=pl.String),
        pl.Series("negated", negated or [False] * n, dtype=pl.Boolean),
        pl.Series("stance", stance or ["asserts"] * n, dtype=pl.String),
        pl.Series("entities", [[] for _ in range(n)], dtype=pl.List(pl.String)))


def who_case(rows, **kw):
    claims = framed(rows, **kw)
    emb = FakeEmbedder()
    texts = claims["text"].to_list()
    # claim vectors: one story (cosine 0.77, at least the story threshold), far enough apart not to cluster
    vectors = unit([[1.0] + [0.0] * k + [0.55] + [0.0] * (len(texts) - k - 1) for k in range(len(texts))])
    return run_case(texts, claims["outlet"].to_list(), vectors, claims=claims, encode=emb.encode)


@pytest.mark.parametrize("verb", ["violate", "shell", "cause", "leak", "fund"])
def test_who_did_it_for_any_verb_names_both_agents(verb):
    rows = [("o1", f"The army did {verb} the hospital, witnesses say.", "the army", verb, "the hospital"),
            ("o2", f"Rebel fighters {verb} the hospital again.", "Rebel fighters", verb, "The hospital"),
            ("o3", "Tourists visited the lighthouse.", "Tourists", "visit", "the lighthouse")]
    res, pairs, topics = who_case(rows)
    assert len(pairs) == 1
    p = pairs.row(0, named=True)
    assert p["basis"] == "who-did-it" and {p["agent_a"], p["agent_b"]} == {"the army", "Rebel fighters"}
    assert p["predicate"] == verb and p["patient"].lower() == "the hospital"
    assert p["p_contradiction"] == 0.1  # the NLI score is reported as it is, not made up
    md = render_contradictions_md(pairs, topics, res.claims, {
        "documents": 3, "outlets": 3, "claims": 3, "clusters": 3, "nli_model": "fake-nli",
        "contradiction_threshold": 0.8, "candidate_threshold": 0.45, "within_outlet": False, "candidates": 0})
    assert "1 flagged pair (0 by NLI alone, 1 who-did-it)" in md
    assert "(who did it, in this claim: the army)" in md and "(who did it, in this claim: Rebel fighters)" in md


@pytest.mark.parametrize("change, why", [
    ({"agent": "The army"}, "same agent"),
    ({"outlet": "o1"}, "same outlet"),
    ({"patient": "the tariff rules"}, "another target"),
    ({"predicate": "visit"}, "another act"),
    ({"agent": "it"}, "a pronoun is no party"),
    ({"negated": True}, "a negated claim says nobody did it"),
    ({"stance": "denies"}, "a denial is not an account"),
    ({"predicate": "say"}, "a light verb names no act"),
])
def test_no_who_did_it_pair_without_a_real_conflict(change, why):
    second = {"outlet": "o2", "text": "Rebel fighters shelled the hospital.", "agent": "Rebel fighters",
              "predicate": "shell", "patient": "the hospital", "negated": False, "stance": "asserts"}
    if "predicate" in change and change["predicate"] in ("visit", "say"):
        second["text"] = f"Rebel fighters {change['predicate']} the hospital."
    second.update(change)
    rows = [("o1", "The army shelled the hospital.", "the army", "shell", "the hospital"),
            (second["outlet"], second["text"], second["agent"], second["predicate"], second["patient"])]
    _, pairs, _ = who_case(rows, negated=[False, second["negated"]], stance=["asserts", second["stance"]])
    assert pairs.is_empty(), why


def test_a_hyphen_does_not_make_another_party():
    """"Kremlin-backed" and "Kremlin backed" are one agent: joining the hyphenated words ("kremlinbacked")
    gave the embedder a word it does not know, and so a party of its own."""
    rows = [("o1", "Kremlin-backed shelled the hospital.", "Kremlin-backed", "shell", "the hospital"),
            ("o2", "Kremlin backed shelled the hospital.", "Kremlin backed", "shell", "the hospital")]
    _, pairs, _ = who_case(rows)
    assert pairs.is_empty()


@pytest.mark.parametrize("first, second, flagged", [
    # co-doers: the second account names the first one's doer too
    (("Broadhurst shelled the hospital.", "Broadhurst", ["Broadhurst"]),
     ("Broadhurst, Fichardt shelled the hospital.", "Fichardt", ["Broadhurst", "Fichardt"]), False),
    # the parse took an interjection for the subject; the first doer is named in the claim, in other words
    (("Apple Computer shelled the hospital.", "Apple Computer", ["Apple Computer"]),
     ("Ooh la la, Apple shelled the hospital.", "Ooh la la", ["Ooh la la", "Apple"]), False),
    # another party, named nowhere in the first account
    (("Broadhurst shelled the hospital.", "Broadhurst", ["Broadhurst"]),
     ("Fichardt shelled the hospital.", "Fichardt", ["Fichardt"]), True),
])
def test_an_account_that_names_the_other_doer_does_not_contradict_it(first, second, flagged):
    rows = [("o1", first[0], first[1], "shell", "the hospital"), ("o2", second[0], second[1], "shell", "the hospital")]
    claims = framed(rows).with_columns(pl.Series("entities", [first[2], second[2]], dtype=pl.List(pl.String)))
    vectors = unit([[1.0, 0.55, 0.0], [1.0, 0.0, 0.55]])  # one story, not one cluster
    _, pairs, _ = run_case(claims["text"].to_list(), ["o1", "o2"], vectors, claims=claims,
                           encode=FakeEmbedder().encode)
    assert (len(pairs) == 1) is flagged


@pytest.mark.parametrize("agent, document_names, flagged", [
    ("The firm", ["Yukos", "Houston"], False),  # "the firm" in an article on Yukos is Yukos
    ("The firm", ["Houston"], True),  # its article names another firm, or none: a party of its own
    ("Shell", ["Yukos"], True),  # a name is no description that refers back
])
def test_a_description_that_stands_for_the_other_doer_does_not_contradict_it(agent, document_names, flagged):
    rows = [("o1", f"{agent} filed for bankruptcy.", agent, "file", "bankruptcy"),
            ("o1", "Its lawyers went to court in Houston.", "Its lawyers", "go", "court"),
            ("o2", "Yukos filed for bankruptcy.", "Yukos", "file", "bankruptcy")]
    names = [[agent] if agent == "Shell" else [], document_names, ["Yukos"]]
    claims = framed(rows).with_columns(pl.Series("entities", names, dtype=pl.List(pl.String)),
                                       pl.Series("doc_id", ["d0", "d0", "d2"]))
    vectors = unit([[1.0, 0.55, 0.0, 0.0], [1.0, 0.0, 0.0, 0.55], [1.0, 0.0, 0.55, 0.0]])  # one story
    _, pairs, _ = run_case(claims["text"].to_list(), ["o1", "o1", "o2"], vectors, claims=claims,
                           encode=FakeEmbedder().encode)
    assert (len(pairs) == 1) is flagged


@pytest.mark.parametrize("agent, names, doer", [
    ("the regime forces", [], True), ("Extremist groups", [], True), ("the firm", [], True),
    ("Children's winner", [], True), ("Millions of textile workers", [], False),  # headed by "Millions"
    ("al-Nusra", ["al-Nusra"], True), ("the US Federal Reserve", ["US Federal Reserve"], True),
    ("the poor summer weather", [], False), ("consumer spending", [], False),
    ("Oscar-nominated euthanasia film", [], False), ("four major hurricanes in the US", ["US"], False),
    ("Russian jets", [], True), ("government artillery", [], True), ("a car bomb", [], True),
    ("", [], False),
])
def test_a_doer_is_a_name_or_a_person_or_group(agent, names, doer):
    assert is_doer(agent, names) is doer


@pytest.mark.parametrize("patient, names, one", [
    ("the ceasefire", [], True), ("The ceasefire agreement in Syria", ["Syria"], True),
    ("its benchmark interest rate", [], False), ("his ankle", [], False), ("Yukos' main production arm", ["Yukos"], True),
    ("cease-fire", [], True), ("Yukos", ["Yukos"], True),
    ("interest rates", [], False), ("a jail sentence of 85 years", [], False), ("an interesting challenge", [], False),
    ("$300 million in wage cuts", [], False), ("1,000 jobs", [], False), ("bonuses", [], False), ("", [], False),
])
def test_a_target_is_one_thing_unless_indefinite_a_quantity_or_a_bare_plural(patient, names, one):
    assert is_one_thing(patient, names) is one


@pytest.mark.parametrize("patient, names, one", [
    ("STOCK SPLIT", ["CINCINNATI BELL"], False), ("peace prize", [], False),  # "a" dropped, as headlines do
    ("Cease-fire", ["Aleppo"], False), ("Aleppo Cease-fire", ["Aleppo"], True), ("GATES NOMINATION", ["GATES"], True),
    ("the truce", [], True), ("Best Buy", ["Best Buy"], True), ("jobs", [], False),
    ("Tory spending plans", ["Tory"], False),  # a bare plural stays many things
])
def test_in_a_headline_a_bare_singular_is_one_thing_only_with_a_name_in_it(patient, names, one):
    assert is_one_thing(patient, names, headline=True) is one


@pytest.mark.parametrize("a, b, one", [
    ("The ceasefire", "the ceasefire agreement in Syria", True), ("The ceasefire", "cease-fire", True),
    ("the Aleppo truce", "the Aleppo ceasefire", True),  # WordNet synonyms
    ("the Syrian ceasefire", "the ceasefire in Syria", True), ("the Athens Olympics", "the Olympics", True),
    ("best actress", "best actor", False), ("the best actress award", "the best film award", False),
    ("Everton's best chance", "Arsenal's best chance", False), ("Europe", "France", False),
    ("the award", "the Oscar", False),
])
def test_two_targets_are_one_thing_only_if_the_words_of_one_are_in_the_other(a, b, one):
    assert one_target_in_words(a, b) is one
    assert one_target_in_words(b, a) is one


@pytest.mark.parametrize("rows, names", [
    # two causes, no doers: both can be true
    ([("o1", "The poor summer weather hit the sales.", "the poor summer weather", "hit", "the sales"),
      ("o2", "The Atkins diet hit the sales.", "The Atkins diet", "hit", "the sales")], [[], ["Atkins"]]),
    # many parties raise rates, each its own
    ([("o1", "The Fed raised interest rates.", "The Fed", "raise", "interest rates"),
      ("o2", "China raised interest rates.", "China", "raise", "interest rates")], [["Fed"], ["China"]]),
    # two speakers accusing one party made two statements, not two accounts of one deed
    ([("o1", "Jack Straw accused the Tories.", "Jack Straw", "accuse", "the Tories"),
      ("o2", "Alan Milburn accused the Tories.", "Alan Milburn", "accuse", "the Tories")],
     [["Jack Straw", "Tories"], ["Alan Milburn", "Tories"]]),
    # two prizes: "actress" is not "actor"
    ([("o1", "Annette Bening won the best actress award.", "Annette Bening", "win", "the best actress award"),
      ("o2", "Jamie Foxx won the best actor award.", "Jamie Foxx", "win", "the best actor award")],
     [["Annette Bening"], ["Jamie Foxx"]]),
])
def test_who_did_it_asks_doers_about_one_thing(rows, names):
    claims = framed(rows).with_columns(pl.Series("entities", names, dtype=pl.List(pl.String)))
    vectors = unit([[1.0, 0.55, 0.0], [1.0, 0.0, 0.55]])  # one story, not one cluster
    _, pairs, _ = run_case(claims["text"].to_list(), ["o1", "o2"], vectors, claims=claims,
                           encode=FakeEmbedder().encode)
    assert pairs.is_empty()


def test_who_did_it_pair_that_nli_calls_the_same_claim_is_dropped():
    rows = [("o1", "The army shelled the hospital.", "the army", "shell", "the hospital"),
            ("o2", "The army shelled the hospital.", "Army units", "shell", "the hospital")]
    _, pairs, _ = who_case(rows)
    assert pairs.is_empty()


def test_reverse_direction_only_where_it_can_change_the_decision():
    texts = TEXTS + ["the regime broke the truce in march", "rebels broke the truce in march"]
    outlets = OUTLETS + ["o6", "o7"]
    vecs = unit([[1, 0.00, 0], [1, 0.01, 0], [1, 0.30, 0], [1, 0.31, 0], [0, 0, 1], [0.6, 0.0, 0.8],
                 [0.6, 0.3, 0.75]])
    nli = FakeNLI()
    claims = frame(texts, outlets)
    judge = NLIJudge(FakeNLI(), 0.8, 0.4, 0.6, 0.5)
    res = cluster_claims(claims, vecs, build_faiss(vecs), judge, k=6)
    every_story = Settings(**{**SETTINGS.as_dict(), "story_threshold": -1.0})  # the reverse cut alone
    found = find_contradictions(res.claims, vecs, res.candidates, res.claims["cluster_id"].to_numpy(), nli,
                                every_story)
    c = found.counts
    assert c["nli_calls"] == c["contradiction_candidates"] + (c["contradiction_candidates"]
                                                               - c["nli_calls_reverse_skipped"])
    assert c["nli_calls_reverse_skipped"] > 0 and nli.calls == c["nli_calls"]
    # the same flags as scoring every pair both ways
    full = {}
    ids, tx = res.claims["claim_id"].to_list(), res.claims["core"].to_list()
    cl = res.claims["cluster_id"].to_list()
    for i, j in zip(res.candidates.i.tolist(), res.candidates.j.tolist(), strict=True):
        if cl[i] != cl[j] and outlets[i] != outlets[j]:
            a, b = sorted((i, j), key=lambda r: ids[r])
            ab, ba = FakeNLI().predict([(tx[a], tx[b])]), FakeNLI().predict([(tx[b], tx[a])])
            full[(ids[a], ids[b])] = float(contradiction_score(ab, ba)[0]) >= SETTINGS.contradiction_threshold
    assert set(found.pairs.select("claim_id_a", "claim_id_b").iter_rows()) == {k for k, v in full.items() if v}


@pytest.mark.parametrize("rule", ["min", "mean", "max", "forward"])
def test_skipping_the_reverse_never_changes_a_flag(rule):
    rng = np.random.default_rng(0)
    ab, ba = rng.dirichlet([1, 1, 1], 500).astype(np.float32), rng.dirichlet([1, 1, 1], 500).astype(np.float32)
    for t in (0.3, 0.6, 0.8):
        flagged = contradiction_score(ab, ba, rule) >= t
        assert not (flagged & ~needs_reverse(ab, rule, t)).any()
    assert needs_reverse(ab, rule, 0.8).sum() < 500 or rule == "max"  # the cut saves calls


def test_unknown_rule_is_a_settings_error():
    from claimmatch.config import load_settings
    from claimmatch.errors import ClaimmatchError

    with pytest.raises(ClaimmatchError, match="contradiction_rule"):
        load_settings(overrides={"contradiction_rule": "median"}, environ={})


def _cut(side, edges):
    return sum(side[a] != side[b] for a, b in edges)


@pytest.mark.parametrize("seed", range(20))
def test_camps_put_the_most_flagged_pairs_across(seed):
    rng = random.Random(seed)
    nodes = list(range(rng.randint(3, 7)))
    edges = {(a, b) for a, b in itertools.combinations(nodes, 2) if rng.random() < 0.5}
    edges |= {(n, n + 1) for n in nodes[:-1]}  # connected
    adj = {n: set() for n in nodes}
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    side = _camps(set(nodes), adj)
    best = max(_cut(dict(zip(nodes, bits, strict=True)), edges)
               for bits in itertools.product((0, 1), repeat=len(nodes)))
    # one-flip local search is not exact max-cut, but never worse than half the pairs, and usually optimal
    assert _cut(side, edges) >= max(best - 1, len(edges) / 2)


def test_claims_naming_the_same_subject_are_candidates_whatever_their_cosine():
    texts = ["the airport in Aleppo was shelled", "the airport in Aleppo was not shelled", "markets rose in Paris"]
    claims = frame(texts, ["o1", "o2", "o3"]).with_columns(
        pl.Series("entities", [["Aleppo"], ["Aleppo"], ["Paris"]], dtype=pl.List(pl.String)))
    vectors = unit([[1, 0, 0], [0, 1, 0], [0, 0, 1]])  # cosine 0: never neighbours
    for max_claims, expected in ((20, 1), (0, 0), (1, 0)):
        settings = Settings(**{**SETTINGS.as_dict(), "subject_key_max_claims": max_claims, "story_threshold": -1.0})
        found = find_contradictions(claims, vectors, build_faiss(vectors), np.arange(3), FakeNLI(), settings)
        assert len(found.pairs) == expected, max_claims
    # with the story gate on, two one-claim documents at cosine 0 are two stories: nothing is asked
    found = find_contradictions(claims, vectors, build_faiss(vectors), np.arange(3), FakeNLI(), SETTINGS)
    assert len(found.pairs) == 0 and found.counts["candidates_dropped_other_story"] == 1
    assert found.counts["nli_calls"] == 0
    # a subject named by more claims than the cap says too little to pair them
    many = frame(texts * 3, [f"o{k}" for k in range(9)]).with_columns(
        pl.Series("entities", [["Aleppo"], ["Aleppo"], ["Paris"]] * 3, dtype=pl.List(pl.String)))
    vec9 = np.eye(9, dtype=np.float32)
    capped = Settings(**{**SETTINGS.as_dict(), "subject_key_max_claims": 5, "story_threshold": -1.0})
    found = find_contradictions(many, vec9, build_faiss(vec9), np.arange(9), FakeNLI(), capped)
    assert found.counts["contradiction_candidates"] == 3  # the three Paris claims only


def test_subject_pairs_are_the_sorted_distinct_pairs_of_each_rare_subject():
    rng = random.Random(3)
    subjects = [f"s{k}" for k in range(12)]
    keys = [set(rng.sample(subjects, rng.randint(0, 3))) for _ in range(60)]
    holders: dict[str, list[int]] = {}
    for row, ks in enumerate(keys):
        for key in ks:
            holders.setdefault(key, []).append(row)
    # the same subject as an entity of one claim and the agent or patient of another: one key
    spelled = [[f"The {k.upper()}" if row % 3 == 0 else k for k in sorted(ks)] for row, ks in enumerate(keys)]
    claims = pl.DataFrame({"entities": [e[1:] for e in spelled], "agent": [e[0] if e else None for e in spelled],
                           "patient": ["it"] * len(keys)}, schema={"entities": pl.List(pl.String),
                                                                    "agent": pl.String, "patient": pl.String})
    for max_claims in (2, 5, 20):
        expected = sorted({p for rows in holders.values() if 2 <= len(rows) <= max_claims
                           for p in itertools.combinations(rows, 2)})
        i, j = shared_subject_pairs(claims, max_claims)
        assert list(zip(i.tolist(), j.tolist(), strict=True)) == expected
    one_each = pl.DataFrame({"entities": [["a"], ["b"]]}, schema={"entities": pl.List(pl.String)})
    assert [len(x) for x in shared_subject_pairs(one_each, 20)] == [0, 0]


@pytest.mark.parametrize("hyphen", ["", " "])
def test_normalized_column_equals_normalize(hyphen):
    from claimmatch.contradict.who_did_it import normalize, normalized

    phrases = ["The cease-fire", "Nusra-linked rebels", "the the firm", "The", "Its ‘main’ arm", "al-Nusra's fighters",
               "   ", "THE U.S. Federal Reserve", "naïve Café-owners", "them", "their own", "Some of those", "",
               "Ærø’s ferry", "these 3 groups", "a_b c", None]
    got = pl.DataFrame({"p": phrases}, schema={"p": pl.String}).select(normalized(pl.col("p"), hyphen))["p"].to_list()
    assert got == [None if p is None else normalize(p, hyphen) for p in phrases]


def test_candidates_come_sorted_by_claim_id_whatever_the_row_order():
    rng = random.Random(5)
    n = 40
    ids = [f"c{k:03d}" for k in range(n)]
    rng.shuffle(ids)
    pairs = sorted({tuple(sorted(rng.sample(range(n), 2))) for _ in range(120)})
    source = Candidates(np.array([a for a, _ in pairs]), np.array([b for _, b in pairs]), np.ones(len(pairs), np.float32))
    vectors = unit(np.eye(n) + 0.5)
    cand, cuts = nli_candidates(vectors, source, ids, [f"o{k % 4}" for k in range(n)], np.arange(n), neighbors=5,
                                min_similarity=0.0, within_outlet=True,
                                shared_subject=(np.array([0, 1, 2]), np.array([3, 4, 5])))
    got = [(ids[a], ids[b]) for a, b in zip(cand.i.tolist(), cand.j.tolist(), strict=True)]
    expected = sorted({tuple(sorted((ids[a], ids[b]))) for a, b in [*pairs, (0, 3), (1, 4), (2, 5)]})
    assert got == expected
    assert cuts["from_shared_subject"] == len({(0, 3), (1, 4), (2, 5)} - set(pairs))


def test_who_did_it_pairs_do_not_depend_on_the_block_size():
    agents = ["the army", "Rebel fighters", "Police officers", "the militia", "Government troops", "Protesters"]
    rows = [(f"o{k % 3}", f"{a} shelled the hospital.", a, "shell", "the hospital") for k, a in enumerate(agents)]
    rows += [(f"o{k % 3}", f"{a} blocked the road.", a, "block", "the road") for k, a in enumerate(agents)]
    claims = framed(rows)
    n = len(rows)
    vectors = unit([[1.0] + [0.0] * k + [0.9] + [0.0] * (n - k - 1) for k in range(n)])
    s = Settings()
    kw = {"predicate_threshold": s.predicate_threshold, "target_threshold": s.target_threshold,
          "agent_threshold": s.agent_threshold, "subject_threshold": s.who_subject_threshold, "max_partners": 4}
    whole = frame_pairs(claims, np.arange(n), vectors, FakeEmbedder().encode, **kw)
    assert len(whole) > 0
    for cells in (1, n, 3 * n):
        part = frame_pairs(claims, np.arange(n), vectors, FakeEmbedder().encode, max_cells=cells, **kw)
        assert part.i.tolist() == whole.i.tolist() and part.j.tolist() == whole.j.tolist()


def _frame_pairs_one_by_one(claims, clusters, claim_vectors, encode, *, predicate_threshold, target_threshold,
                            agent_threshold, subject_threshold, other_verb_claim_threshold=0.45,
                            within_outlet=False, max_partners=50):
    """Who-did-it pairs tested pair by pair, every test in Python: the reference for the array version."""
    from claimmatch.contradict.who_did_it import eligible_rows, normalize

    rows = eligible_rows(claims)
    pick = rows.tolist()
    agents_n = [normalize(claims["agent"][r]) for r in pick]
    preds = [claims["predicate"][r].lower() for r in pick]
    patients = encode([normalize(claims["patient"][r]) for r in pick])
    agents = encode(agents_n)
    act_vec = encode([f"{p} {normalize(claims['patient'][r])}" for p, r in zip(preds, pick, strict=True)])
    outlets = claims["outlet"].to_list()
    found = set()
    k = min(max_partners + 1, len(rows))
    neg_sim = -(patients @ patients.T)
    top = np.argpartition(neg_sim, k - 1, axis=1)[:, :k] if k < len(rows) else np.tile(np.arange(len(rows)), (len(rows), 1))
    for x in range(len(rows)):
        for y in top[x].tolist():
            if y == x or -neg_sim[x, y] < target_threshold or agents_n[x] == agents_n[y]:
                continue
            i, j = sorted((int(rows[x]), int(rows[y])))
            if clusters[i] == clusters[j] or (not within_outlet and outlets[i] == outlets[j]):
                continue
            if float(agents[x] @ agents[y]) >= agent_threshold:
                continue
            claim_sim = float(claim_vectors[i] @ claim_vectors[j])
            if claim_sim < subject_threshold:
                continue
            if preds[x] != preds[y] and (float(act_vec[x] @ act_vec[y]) < predicate_threshold
                                         or claim_sim < other_verb_claim_threshold):
                continue
            found.add((i, j))
    return sorted(found)


def _random_frames(rng, n, outlets, clusters, agents, verbs, targets):
    """n claims "<agent> <verb>ed <target>." drawn at random, with vectors and cluster labels (same draw order
    as the tests were written with, so their cases are unchanged)."""
    rows = []
    for _ in range(n):
        a, v, t = agents[rng.integers(len(agents))], verbs[rng.integers(len(verbs))], targets[rng.integers(len(targets))]
        rows.append((f"o{rng.integers(outlets)}", f"{a} {v}ed {t}.", a, v, t))
    return framed(rows), unit(rng.normal(size=(n, 8)) + 2.0), rng.integers(0, clusters, size=n)


@pytest.mark.parametrize("within_outlet", [False, True])
def test_who_did_it_array_tests_find_the_pairs_of_the_one_by_one_tests(within_outlet):
    claims, vectors, clusters = _random_frames(
        np.random.default_rng(11), 80, 4, 50,
        ["the army", "Rebel fighters", "Police", "the militia", "Government troops", "it", "Protesters"],
        ["shell", "attack", "block", "bomb", "say"],
        ["the hospital", "the old hospital", "the road", "the main road", "the bridge"])
    s = Settings()
    kw = {"predicate_threshold": s.predicate_threshold, "target_threshold": 0.5, "agent_threshold": s.agent_threshold,
          "subject_threshold": 0.3, "other_verb_claim_threshold": 0.6, "within_outlet": within_outlet,
          "max_partners": 12}
    got = frame_pairs(claims, clusters, vectors, FakeEmbedder().encode, max_cells=10 ** 9, **kw)
    expected = _frame_pairs_one_by_one(claims, clusters, vectors, FakeEmbedder().encode, **kw)
    assert len(expected) > 10
    assert list(zip(got.i.tolist(), got.j.tolist(), strict=True)) == expected


def _all_pairs_partners(targets, k, threshold):
    """The all-pairs pass that target_partners replaces: argpartition of every row of the full matrix."""
    neg = -(targets @ targets.T)
    n = len(targets)
    top = np.argpartition(neg, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (n, 1))
    return sorted({(x, y) for x in range(n) for y in top[x].tolist() if y != x and not -neg[x, y] < threshold})


def _exact_targets(rng, n, distinct, scale, low=None):
    """Vectors on a grid coarse enough that every dot product is exact in float32 whatever the summation
    order (so both methods see the same similarities), drawn with repeats from ``distinct`` of them."""
    pool = rng.integers(-scale if low is None else low, scale + 1, size=(distinct, 16)).astype(np.float32)
    pool /= np.float32(2.0 ** np.ceil(np.log2(np.linalg.norm(pool, axis=1).max())))  # a power of two: exact
    return pool[rng.integers(0, distinct, size=n)]


@pytest.mark.parametrize("bf16", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_target_partners_equal_the_all_pairs_pass(bf16, seed):
    from claimmatch.contradict.who_did_it import target_partners

    rng = np.random.default_rng(seed)
    # few distinct targets and a coarse grid: many frames with equal rows and equal similarities, so ties
    # at the k-th place (broken by argpartition of the whole row) and similarities equal to the threshold
    coarse = _exact_targets(rng, 120, distinct=int(rng.integers(8, 40)), scale=2)
    # a finer grid (inputs not exact in bfloat16): similarities spread near the threshold
    fine = _exact_targets(rng, 90, distinct=80, scale=1000)
    for targets in (coarse, fine):
        sims = (targets @ targets.T).ravel()
        middle = float(np.sort(sims)[int(len(sims) * 0.7)])  # a similarity that occurs, as the threshold
        for threshold in (middle, float(np.nextafter(np.float32(middle), np.float32(2))),
                          float(np.nextafter(np.float32(middle), np.float32(-2)))):
            for k in (1, 5, 13, len(targets)):
                expected = _all_pairs_partners(targets, k, threshold)
                for cells in (1, 10 ** 9):
                    x, y, _ = target_partners(targets, k, threshold, max_cells=cells, bf16=bf16)
                    got = list(zip(x.tolist(), y.tolist(), strict=True))
                    assert len(got) == len(set(got)) and sorted(got) == expected, (threshold, k, cells)


@pytest.mark.parametrize("bf16", [False, True])
def test_who_did_it_with_crowded_targets_equals_the_all_pairs_pass(bf16):
    """Frames over k partners on repeated targets, ties included: the pairs of the one-by-one reference."""
    claims, vectors, clusters = _random_frames(
        np.random.default_rng(3), 160, 5, 80,
        ["the army", "Rebel fighters", "Police", "the militia", "Government troops", "Protesters", "NATO",
         "the navy", "Hamas", "Israel"],
        ["shell", "attack", "block", "bomb"],
        ["the hospital", "the old hospital", "the road", "the main road", "the bridge", "the old bridge",
         "the main hospital road"])
    s = Settings()
    for max_partners in (3, 9, 30):
        kw = {"predicate_threshold": s.predicate_threshold, "target_threshold": s.target_threshold,
              "agent_threshold": s.agent_threshold, "subject_threshold": 0.2, "other_verb_claim_threshold": 0.5,
              "max_partners": max_partners}
        got = frame_pairs(claims, clusters, vectors, FakeEmbedder().encode, bf16=bf16, **kw)
        expected = _frame_pairs_one_by_one(claims, clusters, vectors, FakeEmbedder().encode, **kw)
        assert len(expected) > 10
        assert list(zip(got.i.tolist(), got.j.tolist(), strict=True)) == expected


def test_who_did_it_embedding_tests_on_arrays_equal_the_pair_by_pair_tests():
    """Thresholds set to similarities that occur: the array version decides those pairs one by one."""
    from claimmatch.contradict.who_did_it import _embedding_tests, _pair_passes

    rng = np.random.default_rng(8)
    n, pairs = 60, 3000
    agents, acts, claim_vectors = (unit(rng.normal(size=(n, 384)) + shift) for shift in (0.0, 0.05, 0.05))
    preds = [f"v{k % 3}" for k in range(n)]
    x, y = rng.integers(0, n, pairs), rng.integers(0, n, pairs)
    for a, b in ((3, 4), (5, 6), (7, 8)):
        x[a], y[a] = a, b
    thresholds = (float(agents[3] @ agents[4]), float(claim_vectors[5] @ claim_vectors[6]),
                  float(acts[7] @ acts[8]), float(claim_vectors[7] @ claim_vectors[8]))
    got = _embedding_tests(x, y, x, y, agents, acts, claim_vectors, preds, thresholds)
    expected = [_pair_passes(a, b, a, b, agents, acts, claim_vectors, preds, thresholds)
                for a, b in zip(x.tolist(), y.tolist(), strict=True)]
    assert 0 < sum(expected) < pairs and got.tolist() == expected


@pytest.mark.parametrize("max_partners", [2, 6, 40])
def test_who_did_it_with_stored_target_cells_equals_a_full_pass(max_partners, monkeypatch):
    """A later run given the earlier run's target cells computes only the rows of unseen targets and
    finds the pairs (and cells) of a run from scratch: removed frames, new phrases, ties included."""
    from claimmatch.contradict import who_did_it

    rng = np.random.default_rng(21)
    phrases = [f"target {k}" for k in range(40)]
    grid = _exact_targets(rng, len(phrases), distinct=32, scale=2, low=-1)  # phrases sharing a vector too
    table = dict(zip(phrases, grid, strict=True))
    fake = FakeEmbedder()

    def encode(texts):
        return np.stack([table[t] if t in table else fake.encode([t])[0][:16] for t in texts]).astype(np.float32)

    agents = ["the army", "Rebel fighters", "Police", "the militia", "Government troops", "Protesters", "NATO"]

    def frames(count, pool):
        out = []
        for _ in range(count):
            a, v, t = agents[rng.integers(len(agents))], ["shell", "bomb"][rng.integers(2)], pool[rng.integers(len(pool))]
            out.append((f"o{rng.integers(4)}", f"{a} {v}ed {t}.", a, v, t))
        return out

    old = frames(140, phrases[:30])
    new = [r for k, r in enumerate(old) if k % 7] + frames(50, phrases[20:])  # some frames gone, new phrases
    s = Settings()
    sims = np.sort((grid @ grid.T).ravel())
    kw = {"predicate_threshold": s.predicate_threshold, "target_threshold": float(sims[int(len(sims) * 0.6)]),
          "agent_threshold": s.agent_threshold, "subject_threshold": -1.0, "max_partners": max_partners}

    def run(rows, known=None):
        claims = framed(rows)
        return frame_pairs(claims, np.arange(len(rows)), unit(np.ones((len(rows), 4))), encode,
                           known_targets=known, **kw)

    first = run(old)
    computed = []
    real = who_did_it._cells_above
    monkeypatch.setattr(who_did_it, "_cells_above", lambda u, rows, *a: computed.append(len(rows)) or real(u, rows, *a))
    later = run(new, first.targets)
    full = run(new)
    assert len(full) > 5 and later.i.tolist() == full.i.tolist() and later.j.tolist() == full.j.tolist()
    assert later.targets.sort(pl.all()).equals(full.targets.sort(pl.all()))
    assert computed[0] < computed[1]  # the later run computed fewer rows than the run from scratch


def test_two_verbs_name_one_act_only_if_the_verbs_alone_are_alike_and_not_antonyms():
    """AG News who-did-it flags whose verb phrases met only through their target ("cover the surface of
    Titan" / "lift the veil from the surface of Titan") are two acts; violate / breach (0.43) stay one."""
    from claimmatch.contradict.who_did_it import _other_act

    angle = {"violate": 0.0, "breach": np.arccos(0.43), "cover": 1.0, "lift": 1.0 + np.arccos(0.27),
             "win": 2.0, "lose": 2.0 + np.arccos(0.68)}

    def encode(words):
        return np.array([[np.cos(angle[w]), np.sin(angle[w])] for w in words], np.float32)

    pa, pb = ["violate", "cover", "win", "shell"], ["breach", "lift", "lose", "shell"]
    assert _other_act(pa, pb, encode, 0.35).tolist() == [False, True, True, False]
