"""The real-news rules, with fake models: contradictions only within one story (document mean vectors),
claims that name nothing one claim only within one story, who-did-it pairs whose numbers or dates do not fit dropped, number/date conflicts keeping claims apart at
any cosine, a text never contradicting itself, and borderline NLI joins off unless ``band_join``."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from claimmatch.cluster import cluster_claims
from claimmatch.config import Settings
from claimmatch.contradict import find_contradictions
from claimmatch.judge import Frame, NLIJudge, decide, fact_values, frame_relation, reverse_can_change, values_conflict
from claimmatch.nli_rules import restates
from claimmatch.pipeline import make_judge
from claimmatch.store import build_faiss
from claimmatch.story import apart_stories, story_similarity

from .conftest import FakeEmbedder
from .test_contradict import SETTINGS, FakeNLI, frame, framed, run_case, unit
from .test_judge import probs


class ConstantNLI:
    """The same probabilities for every pair, counting the pairs it is asked."""

    name = "constant-nli"
    labels = ("entailment", "neutral", "contradiction")

    def __init__(self, row: list[float]) -> None:
        self.row = row
        self.calls = 0

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        self.calls += len(pairs)
        return np.tile(np.array(self.row, np.float32), (len(pairs), 1)).reshape(-1, 3)


def with_docs(claims: pl.DataFrame, doc_ids: list[str]) -> pl.DataFrame:
    """The claims table with these documents (several claims per document), claim ids to match."""
    return claims.with_columns(pl.Series("doc_id", doc_ids),
                               pl.Series("claim_id", [f"{d}#{k:03d}" for k, d in enumerate(doc_ids)]))


def stage(claims: pl.DataFrame, vectors: np.ndarray, scorer, settings: Settings = SETTINGS, encode=None):
    """Cluster with an NLI judge (its own FakeNLI), then run the contradiction stage with ``scorer``."""
    judge = NLIJudge(FakeNLI(), threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                     entailment_threshold=0.5)
    res = cluster_claims(claims, vectors, build_faiss(vectors), judge, k=5)
    return res, find_contradictions(res.claims, vectors, build_faiss(vectors), res.claims["cluster_id"].to_numpy(),
                                    scorer, settings, encode=encode)


# story_similarity


def test_story_similarity_is_the_cosine_of_the_documents_mean_vectors():
    # a: (0.6, 0.8, 0) and (1, 0, 0), mean along (1.6, 0.8, 0); b: (0, 1, 0) and (0, 0, 1), mean along (0, 1, 1)
    # cosine 0.8 / sqrt(3.2 * 2) = 1 / sqrt(10); a with itself 1; c (one claim) is its claim
    docs = ["a", "a", "b", "b", "c"]
    vectors = np.array([[0.6, 0.8, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]], np.float32)
    got = story_similarity(docs, vectors, np.array([0, 1, 0, 2, 0]), np.array([2, 3, 1, 4, 4]))
    assert got.dtype == np.float32
    b_c = 1 / np.sqrt(2)  # (0, 1, 1) against (0, 1, 0)
    a_c = 0.8 / np.sqrt(3.2)  # (1.6, 0.8, 0) against (0, 1, 0)
    assert got == pytest.approx([1 / np.sqrt(10), 1 / np.sqrt(10), 1.0, b_c, a_c], abs=1e-6)
    # axis vectors: a along (1, 1, 0), b along (1, 0, 1): cosine one half
    axes = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], np.float32)
    assert story_similarity(["a", "a", "b", "b"], axes, [0, 1], [3, 2]) == pytest.approx([0.5, 0.5], abs=1e-6)
    # claims that cancel out leave no direction: cosine 0, not NaN
    flat = np.array([[1, 0], [-1, 0], [1, 0]], np.float32)
    assert story_similarity(["a", "a", "b"], flat, [0], [2]).tolist() == [0.0]


def test_story_similarity_of_a_pair_does_not_change_as_the_index_grows():
    rng = np.random.default_rng(7)
    vecs = rng.normal(size=(12, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    a, b, others = vecs[:3], vecs[3:5], vecs[5:]
    base_docs = ["a"] * 3 + ["b"] * 2
    base = story_similarity(base_docs, np.vstack([a, b]), [0], [3])
    mean_a, mean_b = a.astype(np.float64).mean(0), b.astype(np.float64).mean(0)
    expected = mean_a @ mean_b / np.linalg.norm(mean_a) / np.linalg.norm(mean_b)
    assert base[0] == pytest.approx(expected, abs=1e-6)
    # other documents' claims interleaved before, between and after (a's and b's in their own order)
    order = [("c", others[0]), ("a", a[0]), ("d", others[1]), ("b", b[0]), ("a", a[1]), ("c", others[2]),
             ("d", others[3]), ("a", a[2]), ("b", b[1]), ("e", others[4]), ("c", others[5]), ("e", others[6])]
    docs = [d for d, _ in order]
    grown = np.vstack([v for _, v in order])
    a0, b0 = docs.index("a"), docs.index("b")
    alone = story_similarity(docs, grown, [a0], [b0])
    assert np.array_equal(alone, base)
    # the same pair asked among pairs of other documents, and from its documents' other claims
    mixed = story_similarity(docs, grown, [0, a0, 2, 7, 9], [6, b0, 10, 8, 11])
    assert mixed[1] == base[0] and mixed[3] == base[0]


def test_story_similarity_of_no_pairs_is_empty():
    out = story_similarity(["a", "b"], np.eye(2, dtype=np.float32), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert out.shape == (0,) and out.dtype == np.float32
    assert story_similarity([], np.zeros((0, 4), np.float32), [], []).shape == (0,)


# claims that name nothing are one claim only within one story


def test_apart_stories_marks_unnamed_claims_of_two_stories_only():
    # a along (1, 1, 0), b along (1, 0, 1): stories at cosine 0.5
    docs = ["a", "a", "b", "b"]
    vectors = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 0, 1]], np.float32)
    i, j = np.array([0, 0, 0]), np.array([2, 3, 1])
    unnamed = np.array([True, False, True])
    assert apart_stories(docs, vectors, i, j, unnamed, 0.75).tolist() == [True, False, False]  # (0, 1): one doc
    assert apart_stories(docs, vectors, i, j, unnamed, 0.4).tolist() == [False, False, False]  # one story at 0.4
    assert not apart_stories(docs, vectors, i, j, unnamed, None).any()
    assert not apart_stories(docs, vectors, i, j, unnamed, -1.0).any()
    assert apart_stories(docs, vectors, [], [], [], 0.75).shape == (0,)
    # a one-claim document (a headline, a one-line post) gives its claim no context: never kept apart
    one = np.vstack([vectors, [[0, 0, 1]]]).astype(np.float32)
    assert apart_stories(docs + ["c"], one, [0], [4], [True], 0.75).tolist() == [False]


def unnamed_case(one_story: bool, named: bool) -> list[int]:
    """Two claims at cosine 0.9 ("The blast occurred." / "The blast was a car bomb.") from two documents,
    each with one more claim; the documents report one story or two. Cluster ids of the four claims."""
    texts = ["The blast occurred.", "The blast was a car bomb.", "Markets closed early.", "Markets closed early."]
    if named:
        texts[:2] = ["The blast hit Portville.", "The Portville blast was a car bomb."]
    claims = frame(texts, ["o1", "o2", "o1", "o2"]).with_columns(
        pl.Series("doc_id", ["a", "b", "a", "b"]), pl.Series("claim_id", ["a#0", "b#0", "a#1", "b#1"]),
        pl.Series("predicate", ["occur", "be", "close", "close"]), pl.Series("negated", [False] * 4),
        pl.Series("entities", [["Portville"] if named and k < 2 else [] for k in range(4)], dtype=pl.List(pl.String)),
        pl.Series("numbers", [[]] * 4, dtype=pl.List(pl.String)), pl.Series("dates", [[]] * 4, dtype=pl.List(pl.String)))
    # documents: (v0 + v2) against (v1 + v3): 0.95 when the second claims agree, 0.45 when they are orthogonal
    vectors = unit([[1, 0, 0, 0], [0.9, np.sqrt(1 - 0.81), 0, 0], [0, 0, 1, 0],
                    [0, 0, 1, 0] if one_story else [0, 0, 0, 1]])
    assert (story_similarity(["a", "b", "a", "b"], vectors, [0], [1])[0] >= 0.75) == one_story
    judge = NLIJudge(FakeNLI(), threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                     entailment_threshold=None)
    res = cluster_claims(claims, vectors, build_faiss(vectors), judge, k=3, story_threshold=0.75)
    return res.claims["cluster_id"].to_list()


@pytest.mark.parametrize("one_story, named, joined", [
    (True, False, True),  # one story: the blast is the same blast
    (False, False, False),  # two stories, nothing named: two blasts
    (False, True, True),  # named: the claim says which blast
])
def test_claims_that_name_nothing_are_one_claim_only_within_one_story(one_story, named, joined):
    cid = unnamed_case(one_story, named)
    assert (cid[0] == cid[1]) == joined


# the contradiction stage keeps to one story

WHO_ROWS = [("o1", "The army shelled the hospital.", "the army", "shell", "the hospital"),
            ("o2", "Rebel fighters shelled the hospital.", "Rebel fighters", "shell", "the hospital"),
            ("o1", "Officials counted the damage.", None, None, None),
            ("o2", "Doctors treated the wounded.", None, None, None)]
WHO_DOCS = ["a", "b", "a", "b"]


def who_vectors(one_story: bool) -> np.ndarray:
    """Every two claims at cosine 0.77 (one subject, none a duplicate), except document b's second claim
    in two stories: orthogonal to everything, it pulls b's mean to cosine 0.58 with a's."""
    rows = [[1, 0.55, 0, 0, 0, 0], [1, 0, 0.55, 0, 0, 0], [1, 0, 0, 0.55, 0, 0],
            [1, 0, 0, 0, 0.55, 0] if one_story else [0, 0, 0, 0, 0, 1]]
    return unit(rows)


@pytest.mark.parametrize("one_story", [True, False])
def test_who_did_it_pairs_only_documents_of_one_story(one_story):
    claims = with_docs(framed(WHO_ROWS), WHO_DOCS)
    vectors = who_vectors(one_story)
    story = story_similarity(WHO_DOCS, vectors, [0], [1])[0]
    assert (story >= SETTINGS.story_threshold) == one_story  # the case is what it claims to be
    _, found = stage(claims, vectors, FakeNLI(), encode=FakeEmbedder().encode)
    assert found.counts["who_did_it_candidates"] == 1  # the frames conflict either way
    if one_story:
        assert len(found.pairs) == 1 and found.pairs["basis"].to_list() == ["who-did-it"]
        assert found.counts["who_did_it_dropped_other_story"] == 0
    else:
        assert found.pairs.is_empty()
        assert found.counts["who_did_it_dropped_other_story"] == 1


@pytest.mark.parametrize("one_story", [True, False])
def test_an_nli_contradiction_between_two_stories_is_never_asked(one_story):
    texts = ["the regime broke the truce", "the regime did not break the truce", "markets were calm",
             "tourists visited the lighthouse"]
    docs = ["a", "b", "b", "b"]
    claims = with_docs(frame(texts, ["o1", "o2", "o2", "o2"]), docs)
    # the two truce claims at cosine 0.95; b's other claims near a's (one story) or orthogonal (two)
    others = [[1, 0, 0.6, 0], [1, 0, 0, 0.6]] if one_story else [[0, 0, 1, 0], [0, 0, 0, 1]]
    vectors = unit([[1, 0, 0, 0], [1, 0.33, 0, 0], *others])
    scorer = FakeNLI()
    res, found = stage(claims, vectors, scorer)
    cid = res.claims["cluster_id"].to_list()
    assert cid[0] != cid[1]  # vetoed apart by the clustering judge either way
    if one_story:
        assert found.pairs.select("claim_id_a", "claim_id_b").rows() == [("a#000", "b#001")]
        assert found.counts["candidates_dropped_other_story"] == 0 and scorer.calls > 0
    else:
        assert found.pairs.is_empty()
        assert found.counts["candidates_dropped_other_story"] == 1
        assert scorer.calls == 0 and found.counts["nli_calls"] == 0


# who-did-it: numbers and dates that do not fit are two events


@pytest.mark.parametrize("texts, numbers, dates, flagged", [
    (("The army shelled the hospital, killing 10.", "Rebels shelled the hospital, killing 12."), (["10"], ["12"]),
     ([], []), False),
    (("The army shelled the hospital, killing 10.", "Rebels shelled the hospital, killing 10 and wounding 2."),
     (["10"], ["10", "2"]), ([], []), True),
    (("The army shelled the hospital, killing 10.", "Rebels shelled the hospital."), (["10"], []), ([], []), True),
    (("The army shelled the hospital on Monday.", "Rebels shelled the hospital on Friday."), ([], []),
     (["Monday"], ["Friday"]), False),
    (("The army shelled the hospital on Monday.", "Rebels shelled the hospital on Monday."), ([], []),
     (["Monday"], ["monday"]), True),
])
def test_who_did_it_drops_pairs_whose_numbers_or_dates_do_not_fit(texts, numbers, dates, flagged):
    """"Motorola to cut 1,000 jobs" / "Eli Lilly to cut 575 jobs" (AG News) were two events."""
    rows = [("o1", texts[0], "the army", "shell", "the hospital"), ("o2", texts[1], "Rebels", "shell", "the hospital")]
    claims = framed(rows).with_columns(pl.Series("numbers", list(numbers), dtype=pl.List(pl.String)),
                                       pl.Series("dates", list(dates), dtype=pl.List(pl.String)))
    vectors = unit([[1.0, 0.55, 0.0], [1.0, 0.0, 0.55]])  # one story (0.77), not duplicates
    _, pairs, _ = run_case(list(texts), ["o1", "o2"], vectors, claims=claims, encode=FakeEmbedder().encode)
    assert len(pairs) == int(flagged)
    if flagged:
        assert pairs["basis"].to_list() == ["who-did-it"]


# number and date conflicts keep claims apart at any cosine


def test_numbers_that_nest_fit_and_others_or_disjoint_dates_conflict():
    assert not values_conflict(frozenset({"10"}), frozenset({"10", "20"}), "numbers")
    assert not values_conflict(frozenset({"10", "20"}), frozenset({"10"}), "numbers")
    assert values_conflict(frozenset({"6", "5"}), frozenset({"6", "4"}), "numbers")
    assert values_conflict(frozenset({"600"}), frozenset({"4400"}), "numbers")
    assert values_conflict(frozenset({"monday"}), frozenset({"friday"}), "dates")
    assert not values_conflict(frozenset({"monday"}), frozenset({"monday", "friday"}), "dates")
    assert not values_conflict(frozenset(), frozenset({"575"}), "numbers")  # one side gives none
    # a date that is part of the other fits; two days of one month do not
    assert not values_conflict(frozenset({"2001"}), frozenset({"december 2001"}), "dates")
    assert values_conflict(frozenset({"march 19"}), frozenset({"may 19"}), "dates")


def test_numbers_and_dates_are_compared_in_one_spelling():
    assert fact_values("numbers", ["three", "4.0", "1,200", "43.52", "fifth", "5th"]) == {"3", "4", "1200", "43.52"}
    assert fact_values("dates", ["Sept. 11", "yesterday", "last week", "Dec 5"]) == {"september 11", "december 5"}
    # spelled differently, the same facts: no conflict (MRPC paraphrases: "three percent" / "3 percent")
    a = Frame.of([{"predicate": "rise", "entities": [], "numbers": ["three"], "dates": ["Sept. 11"]}])
    b = Frame.of([{"predicate": "rise", "entities": [], "numbers": ["3"], "dates": ["September 11", "today"]}])
    assert frame_relation(a, b) == (True, False)


def _frame(numbers=(), dates=()) -> Frame:
    return Frame.of([{"predicate": "win", "entities": ["Braves"], "numbers": list(numbers), "dates": list(dates)}])


def test_frames_with_conflicting_numbers_or_dates_clash():
    assert frame_relation(_frame(["10"]), _frame(["10", "20"])) == (True, False)  # nested: one account
    assert frame_relation(_frame(["6", "5"]), _frame(["6", "4"])) == (False, True)  # 6-5 / 6-4: two games
    assert frame_relation(_frame(dates=["Tuesday"]), _frame(dates=["Wednesday"])) == (False, True)
    assert frame_relation(_frame(dates=["Tuesday"]), _frame(dates=["Tuesday"])) == (True, False)


def test_a_number_conflict_is_not_the_same_claim_at_high_cosine():
    sims = np.array([0.9], np.float32)
    ab, ba = probs(0.2, 0.2)  # neutral: cosine and frames decide
    for a, b, same in ((["6", "5"], ["6", "4"], False), (["600"], ["4,400"], False), (["10"], ["10", "20"], True)):
        agree, clash = frame_relation(_frame(a), _frame(b))
        got, veto = decide(sims, ab, ba, np.array([agree]), np.array([clash]), 0.75, 0.8, 0.5, 0.65)
        assert got.tolist() == [same] and not veto[0], (a, b)


@pytest.mark.parametrize("texts, numbers, joined", [
    (("It is cutting 600 jobs.", "It is cutting 4,400 jobs."), (["600"], ["4,400"]), False),
    (("10 people were killed.", "10 people were killed and 20 wounded."), (["10"], ["10", "20"]), True),
])
def test_clustering_keeps_conflicting_numbers_apart_at_cosine_0_9(texts, numbers, joined):
    claims = frame(list(texts), ["o1", "o2"]).with_columns(
        pl.Series("predicate", ["cut", "cut"]), pl.Series("negated", [False, False]),
        pl.Series("entities", [[], []], dtype=pl.List(pl.String)),
        pl.Series("numbers", list(numbers), dtype=pl.List(pl.String)),
        pl.Series("dates", [[], []], dtype=pl.List(pl.String)))
    vectors = unit([[1.0, 0.0], [0.9, np.sqrt(1 - 0.81)]])  # cosine 0.9, above the duplicate threshold 0.8
    judge = NLIJudge(FakeNLI(), threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                     entailment_threshold=0.5)  # FakeNLI: neutral for these (their words differ)
    res = cluster_claims(claims, vectors, build_faiss(vectors), judge, k=2)
    cid = res.claims["cluster_id"].to_list()
    assert (cid[0] == cid[1]) == joined


@pytest.mark.parametrize("a, b, clash", [
    ({"raise"}, {"lower"}, True),  # "Rim should be raised." / "Maybe they should LOWER the rim." (ARC)
    ({"win"}, {"lose"}, True),
    ({"accept"}, {"reject"}, True),
    ({"rise", "fall"}, {"rise"}, False),  # "shares rose, bonds fell" / "shares rose": no verb opposes
    ({"raise"}, {"hold"}, False),
])
def test_frames_whose_verbs_are_antonyms_clash(a, b, clash):
    fa = Frame.of([{"predicate": p, "entities": ["Rim"]} for p in sorted(a)])
    fb = Frame.of([{"predicate": p, "entities": ["Rim"]} for p in sorted(b)])
    assert frame_relation(fa, fb)[1] is clash
    assert frame_relation(fb, fa)[1] is clash


def test_opposite_acts_stay_apart_at_high_cosine():
    """An NLI model that misses the antonym (ARC: 0.80 one way, 0.22 the other) cannot join them."""
    claims = frame(["Rim should be raised.", "They should lower the rim."], ["o1", "o2"]).with_columns(
        pl.Series("predicate", ["raise", "lower"]), pl.Series("negated", [False, False]),
        pl.Series("entities", [[], []], dtype=pl.List(pl.String)),
        pl.Series("numbers", [[], []], dtype=pl.List(pl.String)),
        pl.Series("dates", [[], []], dtype=pl.List(pl.String)))
    vectors = unit([[1.0, 0.0], [0.9, np.sqrt(1 - 0.81)]])
    judge = NLIJudge(FakeNLI(), threshold=0.8, candidate_threshold=0.4, contradiction_threshold=0.6,
                     entailment_threshold=0.5)
    res = cluster_claims(claims, vectors, build_faiss(vectors), judge, k=2)
    assert res.claims["cluster_id"].n_unique() == 2


# a text never contradicts itself


def test_restates_ignores_case_punctuation_and_spacing_and_added_words_that_cannot_turn_a_text():
    got = restates(["Japan's Sony Corp.", "Prices  ROSE!", "Prices rose", "Prices rose", "Prices rose"],
                   ["Japans sony corp", "prices rose", "Prices fell", "Prices rose sharply", "Prices rose, then fell"])
    assert got.tolist() == [True, True, False, True, True]
    # either order; the added words hold nothing that turns the text
    assert restates(["It escalated into a new trade war."], ["It escalated into a trade war."]).tolist() == [True]
    turned = ["He pleaded not guilty.", "He didn't plead guilty.", "Russia denied its jets bombed the town.",
              "He almost won the race.", "Prices rose but fell.", "He is the former president."]
    plain = ["He pleaded guilty.", "He did plead guilty.", "its jets bombed the town.", "He won the race.",
             "Prices rose fell.", "He is the president."]
    assert not restates(turned, plain).any()
    assert not restates(["Dog bites man."], ["Man bites dog."]).any()  # same words, another order
    assert restates([], []).shape == (0,)


def test_identical_texts_share_a_cluster_whatever_the_model_says():
    texts = ["The harbour of Portville was closed.", "The harbour of Portville was closed.",
             "The harbour of Portville was not closed."]
    claims = frame(texts, ["o1", "o2", "o3"])
    vectors = unit([[1.0, 0.0], [1.0, 0.0], [1.0, 0.48]])  # the third at cosine 0.9
    always = ConstantNLI([0.005, 0.005, 0.99])  # contradiction for every pair, even a text with itself
    res, pairs, _ = run_case(texts, ["o1", "o2", "o3"], vectors, claims=claims, nli=always)
    cid = res.claims["cluster_id"].to_list()
    assert cid[0] == cid[1] != cid[2]  # the model still vetoes the other text
    flagged = set(pairs.select("claim_id_a", "claim_id_b").rows())
    assert flagged == {("d0#000", "d2#000"), ("d1#000", "d2#000")}


def test_the_stage_never_flags_two_texts_of_the_same_words():
    texts = ["Japan's Sony Corp. cut prices.", "japans sony  corp cut prices", "Sony Corp. did not cut prices."]
    claims = frame(texts, ["o1", "o2", "o3"])
    vectors = unit([[1.0, 0.0], [1.0, 0.1], [1.0, 0.48]])
    always = ConstantNLI([0.005, 0.005, 0.99])
    found = find_contradictions(claims, vectors, build_faiss(vectors), np.arange(3), always, SETTINGS)
    assert set(found.pairs.select("claim_id_a", "claim_id_b").rows()) == {("d0#000", "d2#000"), ("d1#000", "d2#000")}


# band_join: borderline NLI joins off by default


@pytest.mark.parametrize("band_join", [False, True])
def test_borderline_joins_on_entailment_only_with_band_join(band_join):
    model = ConstantNLI([0.99, 0.005, 0.005])  # entailment 0.99 both ways
    settings = Settings(band_join=band_join)
    judge = make_judge(settings, model)
    sim = (settings.candidate_threshold + settings.threshold) / 2  # borderline
    frames = [Frame.of([{"predicate": "rise", "entities": ["Prices"], "numbers": [], "dates": []}])]
    verdict = judge.judge(["Prices rose sharply."], ["Prices climbed steeply."], np.array([sim], np.float32),
                          frames, frames)
    assert verdict.same.tolist() == [band_join] and not verdict.veto[0]
    # with the join rules off the reverse direction cannot change anything: it is not asked
    assert model.calls == (2 if band_join else 1)


def test_reverse_is_never_asked_for_a_join_with_the_entailment_rule_off():
    sims = np.array([0.6, 0.6, 0.6], np.float32)
    ab = np.array([[0.99, 0.005, 0.005], [0.5, 0.5, 0.0], [0.02, 0.0, 0.98]], np.float32)
    agree, clash = np.array([True, True, False]), np.zeros(3, bool)
    assert reverse_can_change(sims, ab, agree, clash, 0.75, 0.95, None, None).tolist() == [False, False, True]
    assert reverse_can_change(sims, ab, agree, clash, 0.75, 0.95, 0.5, None).tolist() == [True, True, True]
    # the frame rule alone still asks where its mean is within reach
    assert reverse_can_change(sims, ab, agree, clash, 0.75, 0.95, None, 0.65).tolist() == [True, True, True]
    # and decide, with both rules off, joins no borderline pair but still vetoes
    same, veto = decide(sims[:1], *probs(0.99, 0.99, c=0.005), agree[:1], clash[:1], 0.75, 0.95, None, None)
    assert same.tolist() == [False] and veto.tolist() == [False]
    same, veto = decide(sims[:1], *probs(0.01, 0.01, c=0.98), agree[:1], clash[:1], 0.75, 0.95, None, None)
    assert same.tolist() == [False] and veto.tolist() == [True]
