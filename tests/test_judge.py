"""The same-claim judge on atomic claims: frames, polarity, the borderline band (fake NLI model)."""

from __future__ import annotations

import zlib

import numpy as np
import polars as pl

from claimmatch.cluster import cluster_claims
from claimmatch.config import Settings
from claimmatch.judge import Frame, NLIJudge, clash_reasons, decide, frame_relation, reverse_can_change
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
    assert frame_relation(be_a, be_b) == (False, True)  # two facts: they clash
    talks = Frame.of([{"predicate": "begin", "entities": [], "numbers": [], "dates": ["Wednesday"]}])
    assert frame_relation(hold, talks) == (False, False)


def test_the_same_act_with_doer_and_target_swapped_is_another_claim():
    def frame(agent, patient, predicate="take"):
        return Frame.of([{"agent": agent, "patient": patient, "predicate": predicate, "entities": [agent, patient]}])

    assert clash_reasons(frame("Google", "Microsoft"), frame("Microsoft", "Google")) == ["roles swapped"]
    assert frame_relation(frame("Google", "Microsoft"), frame("Microsoft", "Google")) == (False, True)
    # "She beat unseeded Russian Nadia Petrova" / "She was beaten by Nadia Petrova": heads decide
    assert clash_reasons(frame("She", "unseeded Russian Nadia Petrova", "beat"), frame("Nadia Petrova", "she", "beat"))
    assert clash_reasons(frame("Google", "Microsoft"), frame("Google Inc", "Microsoft")) == []  # no swap
    assert clash_reasons(frame("Google", "Microsoft"), frame("Microsoft", "Google", "sue")) == []  # other acts
    assert clash_reasons(frame("Lord Woolf", "Lord Chief Justice", "be"), frame("Lord Chief Justice", "Lord Woolf", "be")) == []


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
    # one text in two spellings is never vetoed, whatever the model says (benchmarks decide the same way)
    same, veto = decide(sims, *probs(0.05, 0.05, c=0.9), no, no, 0.75, 0.8, 0.5, 0.7, alike=yes)
    assert same.tolist() == [True] and veto.tolist() == [False]


class ScriptedNLI:
    """Entailment 0.9 for (a, b) with a < b, 0.6 the other way: only the frame rule can join them."""

    name = "scripted"

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        return np.array([[0.9, 0.05, 0.05] if a < b else [0.6, 0.35, 0.05] for a, b in pairs],
                        np.float32).reshape(-1, 3)


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
    assert ("a1", "a3") not in seen and ("a2", "b2") in seen and ("b2", "a2") in seen
    # b1/c1 is above the duplicate threshold and not a contradiction one way: its reverse cannot matter
    assert ("c1", "b1") not in seen and judge.pairs_scored == 3 and judge.reverse_skipped == 1
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


def random_probs(rng: np.random.Generator, n: int, snap: list[float]) -> np.ndarray:
    """Random NLI rows, some with entailment or contradiction exactly at a threshold (the edge cases)."""
    p = rng.dirichlet([0.5, 0.5, 0.5], size=n).astype(np.float32)
    for col in (0, 2):
        at = rng.random(n) < 0.1
        p[at, col] = rng.choice(snap, size=int(at.sum()))
        p[at, 1] = 0.0
        p[at, 2 - col] = np.clip(1 - p[at, col], 0, None)
    return p


def test_reverse_is_asked_only_where_it_can_change_the_decision():
    s = Settings()
    args = (s.threshold, s.contradiction_threshold, s.entailment_threshold, s.frame_entailment_threshold)
    sims = np.array([0.9, 0.9, 0.9, 0.6, 0.6, 0.6, 0.6], np.float32)
    ab = np.array([[0.9, 0.05, 0.05], [0.01, 0.01, 0.98], [0.6, 0.3, 0.1], [0.1, 0.8, 0.1], [0.6, 0.3, 0.1],
                   [0.35, 0.6, 0.05], [0.35, 0.6, 0.05]], np.float32)
    agree = np.array([False, False, False, False, False, True, False])
    clash = np.array([False, False, True, False, False, False, False])
    # joined on cosine | veto within reach | clash: two-way entailment decides | out of reach | two-way
    # within reach | frame mean within reach ((0.35 + 1) / 2 ≥ 0.65) | the same without agreeing frames
    assert reverse_can_change(sims, ab, agree, clash, *args).tolist() == [False, True, True, False, True, True, False]


def test_skipping_the_reverse_is_lossless_on_random_probabilities():
    rng = np.random.default_rng(0)
    s = Settings()
    settings = [(s.threshold, s.contradiction_threshold, s.entailment_threshold, s.frame_entailment_threshold),
                (0.75, 0.6, 0.7, 0.5), (0.9, 0.5, 0.5, None), (0.75, 0.8, 0.5, 0.95)]
    for threshold, con, ent, frame in settings:
        n = 20_000
        snap = [con, ent, 2 * frame - 1 if frame is not None else ent, 0.0, 1.0]
        sims = np.round(rng.uniform(0.45, 1.0, n), 2).astype(np.float32)
        sims[rng.random(n) < 0.1] = threshold
        ab, ba = random_probs(rng, n, snap), random_probs(rng, n, snap)
        clash = rng.random(n) < 0.2
        agree = ~clash & (rng.random(n) < 0.5)
        args = (threshold, con, ent, frame)
        full = decide(sims, ab, ba, agree, clash, *args)
        ask = reverse_can_change(sims, ab, agree, clash, *args)
        assert 0 < ask.sum() < n  # some pairs are skipped, some asked
        for other in (np.full_like(ba, np.nan), np.tile([1.0, 0.0, 0.0], (n, 1)), np.tile([0.0, 0.0, 1.0], (n, 1)),
                      random_probs(rng, n, snap)):
            cut = np.where(ask[:, None], ba, other.astype(np.float32))
            same, veto = decide(sims, ab, cut, agree, clash, *args)
            assert np.array_equal(same, full[0]) and np.array_equal(veto, full[1])


class HashNLI:
    """Deterministic pseudo-random probabilities per ordered pair, often near the judge's thresholds."""

    name = "hash-nli"

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        self.calls += len(pairs)
        rows = []
        for a, b in pairs:
            r = np.random.default_rng(zlib.crc32(f"{a}\x00{b}".encode()))
            rows.append(r.dirichlet([0.4, 0.4, 0.4]))
        return np.array(rows, np.float32).reshape(-1, 3)


def test_clusters_equal_both_ways_with_fewer_model_calls(monkeypatch):
    rng = np.random.default_rng(3)
    n = 80
    centers = rng.normal(size=(8, 12))
    v = (centers[rng.integers(0, 8, n)] + rng.normal(scale=0.6, size=(n, 12))).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    preds = ["hold", "win", "lose", "say"]
    claims = pl.DataFrame({
        "claim_id": [f"d{k % 23:02d}#{k:03d}" for k in range(n)], "doc_id": [f"d{k % 23:02d}" for k in range(n)],
        "outlet": [f"o{k % 5}" for k in range(n)], "text": [f"claim number {k}" for k in range(n)],
        "predicate": [preds[k % 4] for k in range(n)], "negated": [k % 7 == 0 for k in range(n)],
        "entities": [["Aleppo"] if k % 3 == 0 else [] for k in range(n)], "numbers": [[] for _ in range(n)],
        "dates": [[] for _ in range(n)]})
    index = build_faiss(v)

    def run(cut: bool):
        model = HashNLI()
        if not cut:
            monkeypatch.setattr("claimmatch.judge.reverse_can_change", lambda sims, *a: np.ones(len(sims), bool))
        judge = NLIJudge(model, 0.75, 0.3, 0.6, 0.5, frame_entailment_threshold=0.55)
        res = cluster_claims(claims, v, index, judge, k=10)
        monkeypatch.undo()
        return res, judge, model

    full, full_judge, full_model = run(cut=False)
    cut, cut_judge, cut_model = run(cut=True)
    assert full.clusters.equals(cut.clusters) and full.claims.equals(cut.claims)
    assert np.array_equal(full.judgement.veto, cut.judgement.veto) and full.judgement.veto.any()
    assert (full.judgement.same & (full.candidates.sim < 0.75)).any()  # NLI joined some band pairs
    scored = full_judge.forward_asked
    assert full_model.calls == 2 * scored and cut_model.calls == scored + cut_judge.reverse_asked
    assert cut_model.calls < 0.8 * full_model.calls and cut_judge.reverse_skipped > 0


class VetoNLI(HashNLI):
    """HashNLI, but one pair in four is a contradiction both ways (p 0.97): vetoes inside would-be clusters."""

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        out = super().predict(pairs, batch_size)
        for k, (a, b) in enumerate(pairs):
            if zlib.crc32("".join(sorted((a, b))).encode()) % 4 == 0:
                out[k] = [0.01, 0.02, 0.97]
        return out


def test_borderline_pairs_judged_only_when_grouped_give_the_clusters_of_judging_all(monkeypatch):
    """With the borderline rules off, a pair below the threshold can only be vetoed; judging it only once
    grouping puts both claims in one cluster gives the same clusters as judging every pair, with fewer
    model calls, and stored verdicts of judged pairs only give them again."""
    from claimmatch.contradict import store

    rng = np.random.default_rng(5)
    n = 120
    centers = rng.normal(size=(10, 16))
    v = (centers[rng.integers(0, 10, n)] + rng.normal(scale=0.45, size=(n, 16))).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    claims = pl.DataFrame({"claim_id": [f"d{k:03d}#0.0" for k in range(n)], "doc_id": [f"d{k:03d}" for k in range(n)],
                           "outlet": [f"o{k % 6}" for k in range(n)], "text": [f"claim number {k}" for k in range(n)]})
    index = build_faiss(v)

    def run(lazy: bool, known=None):
        model = VetoNLI()
        judge = NLIJudge(model, 0.75, 0.3, 0.9, None, frame_entailment_threshold=None)
        if not lazy:
            monkeypatch.setattr(judge, "needs_verdict", lambda sims: np.ones(len(sims), bool))
        return cluster_claims(claims, v, index, judge, k=10, known=known), model

    every, every_model = run(lazy=False)
    lazy, lazy_model = run(lazy=True)
    assert every.claims.equals(lazy.claims) and every.clusters.equals(lazy.clusters)
    band = every.candidates.sim < 0.75
    assert (every.judgement.veto & band).any() and (lazy.judgement.veto & band).any()  # vetoes that mattered
    assert lazy.judged is not None and not lazy.judged.all() and lazy_model.calls < every_model.calls
    cid = lazy.claims["cluster_id"].to_numpy()
    skipped = ~lazy.judged
    assert (lazy.candidates.sim[skipped] < 0.75).all()  # only pairs that could only be vetoed
    assert (cid[lazy.candidates.i[skipped]] != cid[lazy.candidates.j[skipped]]).all()  # and never grouped
    assert (lazy.clusters["size"] > 1).sum() >= 5
    # verdicts stored for the judged pairs only, read back by a rerun: the same clusters, nothing judged again
    saved = store.Stored(None, judged=store.verdict_table(claims["claim_id"].to_list(), lazy.candidates,
                                                          lazy.judgement, lazy.judged))
    ids = claims["claim_id"].to_list()
    saved.seen = pl.DataFrame({"claim_id": sorted(ids), "claim_key": store.claim_keys(claims)}).cast(store.SEEN_SCHEMA)
    _, row_of = store.unchanged(saved, ids, store.claim_keys(claims))
    again, again_model = run(lazy=True, known=store.known_verdicts(saved, row_of, n))
    assert again.clusters.equals(lazy.clusters) and again_model.calls == 0 and again.reused == int(lazy.judged.sum())
