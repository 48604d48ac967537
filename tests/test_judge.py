"""The same-claim judge on atomic claims: frames, polarity, the borderline band (fake NLI model)."""

from __future__ import annotations

import numpy as np
import polars as pl

from claimmatch.cluster import cluster_claims
from claimmatch.judge import Frame, NLIJudge, decide, frame_relation
from claimmatch.report import marked_sentence
from claimmatch.store import build_faiss


def probs(e_ab: float, e_ba: float, c: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    ab = np.array([[e_ab, 1 - e_ab - c, c]], np.float32)
    ba = np.array([[e_ba, 1 - e_ba - c, c]], np.float32)
    return ab, ba


def test_frames_agree_on_a_shared_predicate_or_mention_and_clash_on_polarity():
    hold = Frame.of([{"predicate": "hold", "entities": ["Assad"], "numbers": [], "dates": ["Wednesday"]}])
    plans = Frame.of([{"predicate": "hold", "entities": [], "numbers": [], "dates": []}])
    other = Frame.of([{"predicate": "begin", "entities": ["Geneva"], "numbers": [], "dates": []}])
    assert frame_relation(hold, plans) == (True, False)
    assert frame_relation(hold, other) == (False, False)
    negated = Frame.of([{"predicate": "hold", "entities": [], "numbers": [], "dates": [], "negated": True}])
    assert frame_relation(hold, negated) == (False, True)
    # "be" says nothing about the act; different numbers are different claims; a shared date alone is no match.
    be_a = Frame.of([{"predicate": "be", "entities": [], "numbers": ["35"], "dates": []}])
    be_b = Frame.of([{"predicate": "be", "entities": [], "numbers": ["12"], "dates": []}])
    assert frame_relation(be_a, be_b) == (False, False)
    talks = Frame.of([{"predicate": "begin", "entities": [], "numbers": [], "dates": ["Wednesday"]}])
    assert frame_relation(hold, talks) == (False, False)


def test_borderline_pair_joins_on_agreeing_frames_with_strong_mean_entailment():
    ab, ba = probs(0.9, 0.55)  # the weaker direction misses two-way entailment (0.5 < 0.55 < 0.7)
    sims = np.array([0.6], np.float32)
    yes, no = np.array([True]), np.array([False])
    same, _ = decide(sims, ab, ba, yes, no, 0.75, 0.8, 0.7, 0.7)
    assert same.tolist() == [True]
    assert decide(sims, ab, ba, no, no, 0.75, 0.8, 0.7, 0.7)[0].tolist() == [False]  # frames disagree
    assert decide(sims, ab, ba, yes, no, 0.75, 0.8, 0.7, None)[0].tolist() == [False]  # frame rule off
    assert decide(sims, *probs(0.3, 0.3), yes, no, 0.75, 0.8, 0.7, 0.7)[0].tolist() == [False]


def test_opposite_polarity_never_joins_on_cosine_alone_and_contradiction_vetoes():
    sims = np.array([0.9], np.float32)
    no, yes = np.array([False]), np.array([True])
    assert decide(sims, *probs(0.2, 0.2), no, no, 0.75, 0.8, 0.5, 0.7)[0].tolist() == [True]
    assert decide(sims, *probs(0.2, 0.2), no, yes, 0.75, 0.8, 0.5, 0.7)[0].tolist() == [False]
    same, veto = decide(sims, *probs(0.05, 0.05, c=0.9), no, no, 0.75, 0.8, 0.5, 0.7)
    assert same.tolist() == [False] and veto.tolist() == [True]


class ScriptedNLI:
    """Entailment 0.9 one way and 0.6 the other for every pair: only the frame rule can join them."""

    name = "scripted"

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        n = len(pairs) // 2
        first = np.tile([0.9, 0.05, 0.05], (n, 1))
        second = np.tile([0.6, 0.35, 0.05], (len(pairs) - n, 1))
        return np.vstack([first, second]).astype(np.float32)


def test_clustering_passes_frames_of_atomic_claims_to_the_judge():
    texts = ["Assad's government will hold elections on Wednesday.",
             "The Syrian regime plans to hold elections on Wednesday.",
             "Talks would begin in Geneva on Wednesday."]
    claims = pl.DataFrame({
        "claim_id": ["a#1.0", "b#1.0", "c#1.0"], "doc_id": ["a", "b", "c"], "outlet": ["A", "B", "C"],
        "text": texts, "predicate": ["hold", "hold", "begin"], "negated": [False, False, False],
        "entities": [["Assad"], [], ["Geneva"]], "numbers": [[], [], []], "dates": [["Wednesday"]] * 3})
    v = np.array([[1, 0.75, 0], [1, 0.65, 0.2], [1, 0.2, 0.9]], np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    judge = NLIJudge(ScriptedNLI(), 0.95, 0.45, 0.8, 0.7, frame_entailment_threshold=0.7)
    res = cluster_claims(claims, v, build_faiss(v), judge, k=2)
    cid = res.claims["cluster_id"].to_list()
    assert cid[0] == cid[1] != cid[2]  # "Wednesday" is shared by all three, the act only by the first two


def test_marked_sentence_bolds_the_proposition_inside_its_sentence():
    row = {"sentence": "Prices rose, as OPEC cut output.", "sentence_start": 10, "char_start": 10, "char_end": 21}
    assert marked_sentence(row) == "“**Prices rose**, as OPEC cut output.”"
    whole = {"sentence": "Prices rose.", "sentence_start": 0, "char_start": 0, "char_end": 11}
    assert marked_sentence(whole) == "“Prices rose.”"


def test_pairs_of_one_document_are_not_sent_to_the_model():
    model = ScriptedNLI()
    seen: list = []
    real = model.predict
    model.predict = lambda pairs, batch_size=64: seen.extend(pairs) or real(pairs, batch_size)
    judge = NLIJudge(model, 0.75, 0.45, 0.8, 0.5, frame_entailment_threshold=0.65)
    verdict = judge.judge(["a1", "a2", "b1"], ["a3", "b2", "c1"], np.array([0.6, 0.6, 0.9], np.float32),
                          unscored=np.array([True, False, False]))
    assert ("a1", "a3") not in seen and ("a2", "b2") in seen and judge.pairs_scored == 4
    assert verdict.nli_ab[0].tolist() == [0.0, 1.0, 0.0]  # neutral: cosine and frames decide
    assert verdict.same.tolist() == [False, True, True]


def test_negating_verbs_modalities_and_denials_count_as_negative_polarity():
    def frame(**row) -> Frame:
        return Frame.of([{"entities": ["Nusra Front"], "numbers": [], "dates": [], **row}])

    excluded = frame(predicate="exclude")  # "Nusra Front were excluded from the ceasefire"
    not_included = frame(predicate="include", negated=True)  # "Nusra Front are not included in the ceasefire"
    included = frame(predicate="include")
    assert frame_relation(excluded, not_included) == (True, False)
    assert frame_relation(excluded, included) == (False, True)
    assert frame(predicate="exclude", negated=True).negated is False  # "were not excluded": two negations
    failed = frame(predicate="comply", modality="fails")  # "The US failed to comply"
    assert failed.negated and frame_relation(failed, frame(predicate="comply"))[1]
    assert not frame(predicate="fail").negated  # "The truce has failed": it collapsed, nothing is negated
    denied = frame(predicate="draft", stance="denies")  # "The military denied drafting plans"
    assert denied.negated and frame_relation(denied, frame(predicate="draft")) == (False, True)
    # Above the duplicate threshold a clash keeps the pair apart; agreeing polarity lets cosine join it.
    ab, ba = probs(0.3, 0.2)
    same, _ = decide(np.array([0.84], np.float32), ab, ba, np.array([False]), np.array([excluded.negated != not_included.negated]),
                     0.75, 0.8, 0.5, 0.65)
    assert same[0]
