"""Pair judges: decide whether two retrieved claims state the same thing.

Clustering retrieves candidates by cosine, then asks a judge. A judge returns, per pair, whether the two
claims are the same claim, the similarity to use when linking clusters, and a veto (the two must never
share a cluster, e.g. NLI says they contradict). Judges are pluggable: cosine now, NLI on top.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import polars as pl

from claimmatch.nli_rules import CONTRADICTION, ENTAILMENT, contradiction_score, entailment_score, restates

# Predicates too light to show two claims state the same act.
LIGHT_PREDICATES = frozenset({"be", "have", "do", "say", "’s", "'s", "get", "go", "make", "seem", "appear"})
# Verbs that negate what they govern: "were excluded from the truce" says what "are not included in the truce"
# says, so for polarity they count as a negation ("not excluded" as none). Not "fail": "the truce has failed"
# says it collapsed; "failed to comply" is negative through its modality (below).
NEGATIVE_PREDICATES = frozenset({"exclude", "refuse", "lack", "deny", "reject", "neglect", "omit"})
# Modalities (claimmatch/propositions.py INTENT) and stances that do the same: "failed to comply", "denied that P".
NEGATIVE_MODALITIES = frozenset({"fails", "refuses"})
NEGATIVE_STANCES = frozenset({"denies"})
# Bump when a frame rule changes what the judge decides: stored verdicts of other rules are not reused.
FRAME_RULES = 2  # 2: swapped roles clash
# Words that end a noun phrase's head: "Millions of workers" is headed by "Millions".
_AFTER_HEAD = frozenset("of in for from with at on by to about over under between against including among who "
                        "which that whose as than".split())


def phrase_words(phrase: str | None) -> list[str]:
    return re.findall(r"[\w’'.%$-]+", phrase or "")


def head_word(words: list[str]) -> str:
    """The last word of the phrase before a preposition or a relative word ("Millions of ... workers")."""
    for k, w in enumerate(words):
        if k and w.lower() in _AFTER_HEAD:
            return words[k - 1]
    return words[-1] if words else ""


def _head_of(phrase: str | None) -> str:
    return head_word(phrase_words(phrase)).lower().strip(".")


def polarity_negative(row: dict) -> bool:
    """Whether a claim row says that something is not so: a grammatical negation, or a negating verb,
    modality or stance, an even number of them cancelling out ("did not fail to comply")."""
    flips = [bool(row.get("negated")), (row.get("predicate") or "") in NEGATIVE_PREDICATES,
             (row.get("modality") or "") in NEGATIVE_MODALITIES, (row.get("stance") or "") in NEGATIVE_STANCES]
    return sum(flips) % 2 == 1


@dataclass(frozen=True)
class Frame:
    """What the same-claim rule compares besides text: predicate lemmas, entities, numbers, dates, polarity."""

    predicates: frozenset[str] = frozenset()
    entities: frozenset[str] = frozenset()  # lowercased
    numbers: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    negated: bool = False  # the claim's polarity (:func:`polarity_negative`), not only a grammatical "not"
    roles: tuple[str, str] = ("", "")  # head words of the (first) claim's agent and patient, lower-cased

    @classmethod
    def of(cls, rows: Sequence[dict]) -> Frame:
        """The frame of one claim row, or the union over a sentence's claims (negative if its first is)."""

        def values(key: str) -> list[str]:
            return [v for r in rows for v in (r.get(key) or [])]

        preds = frozenset(r["predicate"] for r in rows if r.get("predicate")) - LIGHT_PREDICATES
        roles = (_head_of(rows[0].get("agent")), _head_of(rows[0].get("patient"))) if rows else ("", "")
        return cls(preds, frozenset(v.lower() for v in values("entities")), fact_values("numbers", values("numbers")),
                   fact_values("dates", values("dates")), bool(rows) and polarity_negative(rows[0]), roles)


def claim_frames(claims: pl.DataFrame, rows: np.ndarray) -> dict[int, Frame] | None:
    """Frames of the given claim rows (atomic claims); None for tables without frame columns."""
    cols = ("predicate", "entities", "numbers", "dates", "negated")
    if not all(c in claims.columns for c in cols) or len(rows) == 0:
        return None
    # polarity ("failed to", "denied") and roles
    cols += tuple(c for c in ("modality", "stance", "agent", "patient") if c in claims.columns)
    picked = claims.select(cols)[rows.tolist()]
    return {int(r): Frame.of([row]) for r, row in zip(rows.tolist(), picked.iter_rows(named=True), strict=True)}


def frame_relation(a: Frame, b: Frame) -> tuple[bool, bool]:
    """(agree, clash) of two claims' frames.

    agree: a shared predicate (not a light verb) or a shared entity, the same polarity, and no conflicting
    numbers or dates. A shared date alone is not agreement: "talks begin on Wednesday" and "elections are
    held on Wednesday" are different claims. clash: opposite polarity, opposite acts (:func:`opposite_acts`:
    "Rim should be raised" / "they should lower the rim", cosine 0.76), or conflicting numbers or dates (both
    give some and they do not fit, :func:`values_conflict`): "It is cutting 600 jobs" / "It is cutting 4,400 jobs" (cosine 0.90) and "The
    dollar edged lower on Tuesday" / "… on Wednesday" are two facts, however close their wording; or the same
    act with doer and target swapped (:func:`swapped_roles`).
    """
    clash = bool(clash_reasons(a, b))
    shared = bool(a.predicates & b.predicates or a.entities & b.entities)
    return (shared and not clash), clash


def swapped_roles(a: Frame, b: Frame) -> bool:
    """The same act with doer and target swapped: "Google takes on Microsoft" / "Microsoft takes on Google",
    "She beat Petrova" / "She was beaten by Petrova" (cosines 0.9 and more: embeddings weigh words, not roles)."""
    (agent_a, target_a), (agent_b, target_b) = a.roles, b.roles
    return (bool(agent_a and target_a) and agent_a != target_a and (agent_a, target_a) == (target_b, agent_b)
            and bool(a.predicates & b.predicates))


def clash_reasons(a: Frame, b: Frame) -> list[str]:
    """Why two claims' frames clash (:func:`frame_relation`), in words a report can print; empty if they do not."""
    reasons = []
    if a.negated != b.negated:
        reasons.append("one negates the other")
    if opposite_acts(a.predicates, b.predicates):
        reasons.append("antonym verbs")
    if swapped_roles(a, b):
        reasons.append("roles swapped")
    if values_conflict(a.numbers, b.numbers, "numbers"):
        reasons.append("numbers that do not fit")
    if values_conflict(a.dates, b.dates, "dates"):
        reasons.append("dates that do not fit")
    return reasons


_ANTONYMS = Path(__file__).resolve().parent / "lexicon" / "verb_antonyms.json"


@functools.cache
def verb_antonyms() -> frozenset[tuple[str, str]]:
    """WordNet 3.0's verb antonym pairs, each pair sorted (built by scripts/build_lexicon.py)."""
    return frozenset((a, b) for a, b in json.loads(_ANTONYMS.read_text(encoding="utf-8"))["pairs"])


def antonyms(p: str, q: str) -> bool:
    """Whether two verb lemmas are antonyms in WordNet (raise / lower, win / lose, accept / reject)."""
    return (min(p, q), max(p, q)) in verb_antonyms()


def opposite_acts(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether a verb of one claim is the antonym of a verb of the other, neither being a verb of both:
    "shares rose, bonds fell" and "shares rose" do not oppose."""
    a, b = a - NEGATIVE_PREDICATES, b - NEGATIVE_PREDICATES  # "excluded" is "not included": polarity reads it
    return any(antonyms(p, q) for p in a - b for q in b - a)


_NUMBER_WORDS = {w: str(k) for k, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {w: str(10 * k) for k, w in enumerate(
        "thirty forty fifty sixty seventy eighty ninety".split(), start=3)} | {"dozen": "12", "hundred": "100"}
_MONTHS = {"jan": "january", "feb": "february", "mar": "march", "apr": "april", "jun": "june", "jul": "july",
           "aug": "august", "sep": "september", "sept": "september", "oct": "october", "nov": "november",
           "dec": "december"}
# Ordinals rank things ("the fifth rate rise", "first-quarter"); they are not quantities two accounts give.
_ORDINALS = frozenset("first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split())
# Dates that name a day only relative to when the article was written: they cannot conflict with others.
_RELATIVE = frozenset("today yesterday tomorrow tonight now recently last this next ago earlier later week "
                      "weekend".split())


def fact_values(kind: str, values: Sequence[str] | None) -> frozenset[str]:
    """A claim's numbers or dates as the conflict rule compares them: "three" and "3.0" are "3", "1,200" is
    "1200", ordinals ("fifth", "5th") are left out, "Sept. 11" is "september 11"; relative dates ("yesterday", "last week") are left out, since two
    articles written on different days say them of one day."""
    out: set[str] = set()
    for value in values or []:
        text = value.lower()
        if kind == "numbers":
            if text in _ORDINALS or re.fullmatch(r"\d+(st|nd|rd|th)", text):
                continue
            t = _NUMBER_WORDS.get(text, text.replace(",", ""))
            try:
                f = float(t)
                t = str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)
            except ValueError:
                pass
            out.add(t)
        else:
            words = re.findall(r"[a-z]+|\d+", text)
            if words and not any(w in _RELATIVE for w in words):
                out.add(" ".join(_MONTHS.get(w, w) for w in words))
    return frozenset(out)


def values_conflict(x: frozenset[str], y: frozenset[str], kind: str) -> bool:
    """Both claims give values (:func:`fact_values`) and they do not fit together. Numbers fit when one set
    holds the other ("10 killed" / "10 killed, 20 wounded"; not "Braves 6, Padres 5" / "Braves 6, Rockies
    4"); dates fit when a date of one is part of a date of the other ("2001" / "december 2001"; not
    "march 19" / "may 19", "monday" / "tuesday")."""
    if not x or not y:
        return False
    if kind == "numbers":
        return not (x <= y or y <= x)
    tokens_x, tokens_y = [set(v.split()) for v in x], [set(v.split()) for v in y]
    return not any(a <= b or b <= a for a in tokens_x for b in tokens_y)


@dataclass
class Judgement:
    same: np.ndarray  # bool: verified same claim
    link_sim: np.ndarray  # float: similarity used by average-link grouping
    veto: np.ndarray  # bool: never put these two in one cluster
    nli_ab: np.ndarray | None = None  # (n, 3) NLI probabilities for (a, b), when a model ran
    # (n, 3) for (b, a); NaN rows where that direction could not change the decision and was not asked
    nli_ba: np.ndarray | None = None


class PairJudge(Protocol):
    name: str
    threshold: float  # duplicate threshold on link_sim
    min_similarity: float  # retrieve candidate pairs down to this cosine

    uses_frames: bool  # wants frames of atomic claims (claimmatch/cluster.py passes them)

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str], sims: np.ndarray,
              frames_a: Sequence[Frame] | None = None, frames_b: Sequence[Frame] | None = None,
              unscored: np.ndarray | None = None) -> Judgement: ...


class CosineJudge:
    """Same claim iff cosine ≥ threshold. Fast, but blind to negation and opposing claims."""

    name = "cosine"
    uses_frames = False

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.min_similarity = threshold

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str], sims: np.ndarray,
              frames_a: Sequence[Frame] | None = None, frames_b: Sequence[Frame] | None = None,
              unscored: np.ndarray | None = None) -> Judgement:
        sims = np.asarray(sims, dtype=np.float32)
        return Judgement(same=sims >= self.threshold, link_sim=sims, veto=np.zeros(len(sims), dtype=bool))


class NLIJudge:
    """Cosine plus NLI plus, for atomic claims, their frames.

    A pair the model calls a contradiction (both directions) is vetoed, whatever its cosine. A pair above
    the duplicate threshold is the same claim unless vetoed or its frames clash (opposite polarity: "are not
    members of Nusra" / "were affiliated with Nusra"; or conflicting numbers or dates). A borderline pair
    (candidate ≤ cosine < threshold) can be joined too, when ``entailment_threshold`` is set and entailment
    holds in both directions, or when ``frame_entailment_threshold`` is set, the frames agree and the mean
    entailment reaches it. Both are off by default (claimmatch/config.py, ``band_join``): on real news
    (AG News, labelled pairs) the model's entailment does not tell a reworded claim from a different claim
    on the same topic, and nine in ten of its borderline joins were wrong (docs/EVALUATION.md, "Real news").
    A joined borderline pair links at the threshold, so average-link grouping treats it as just similar
    enough. Thresholds: claimmatch/config.py.

    The model is asked (a, b) first and (b, a) only where :func:`reverse_can_change` says the second
    direction can still change the decision (most pairs: neither a veto nor a join is within reach), so
    the verdicts equal scoring both ways at about half the model calls.
    """

    name = "nli"
    uses_frames = True

    def __init__(self, model, threshold: float, candidate_threshold: float, contradiction_threshold: float,
                 entailment_threshold: float | None, batch_size: int = 64,
                 frame_entailment_threshold: float | None = None) -> None:
        self.model = model
        self.threshold = threshold
        self.min_similarity = candidate_threshold
        self.contradiction_threshold = contradiction_threshold
        self.entailment_threshold = entailment_threshold
        self.frame_entailment_threshold = frame_entailment_threshold
        self.batch_size = batch_size
        self.seconds = 0.0  # time spent in the model, for pairs/s in run.json
        self.pairs_scored = 0  # pairs sent to the model, both directions counted
        self.forward_asked = self.reverse_asked = self.reverse_skipped = 0

    def needs_verdict(self, sims: np.ndarray) -> np.ndarray:
        """Pairs to judge before grouping: those the rule may call the same claim. With both borderline
        rules off, a pair below the duplicate threshold can only be vetoed; clustering judges it only if
        grouping puts its two claims in one cluster (claimmatch/cluster.py), which saves the model most
        of its calls (AG News: 92,610 candidate pairs, 2,209 at or above the threshold)."""
        if self.entailment_threshold is None and self.frame_entailment_threshold is None:
            return np.asarray(sims) >= self.threshold
        return np.ones(len(sims), dtype=bool)

    def counts(self) -> dict[str, int]:
        """What the judge asked the model, for run.json: (a, b) pairs, (b, a) pairs, reverses not needed."""
        return {"nli_calls_cluster": self.pairs_scored, "nli_calls_cluster_forward": self.forward_asked,
                "nli_calls_cluster_reverse": self.reverse_asked,
                "nli_calls_cluster_reverse_skipped": self.reverse_skipped}

    def _predict(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        start = time.perf_counter()
        probs = np.asarray(self.model.predict(pairs, batch_size=self.batch_size), np.float32)
        self.seconds += time.perf_counter() - start
        self.pairs_scored += len(pairs)
        return probs

    def judge(self, texts_a: Sequence[str], texts_b: Sequence[str], sims: np.ndarray,
              frames_a: Sequence[Frame] | None = None, frames_b: Sequence[Frame] | None = None,
              unscored: np.ndarray | None = None) -> Judgement:
        """``unscored``: pairs the model need not see (two clauses of one document); they get neutral
        probabilities, so only their cosine and frames decide."""
        sims = np.asarray(sims, dtype=np.float32)
        n = len(sims)
        if n == 0:
            empty = np.zeros(0, dtype=bool)
            none = np.zeros((0, 3), np.float32)
            return Judgement(empty, sims, empty, none, none)
        if frames_a is not None and frames_b is not None:
            rel = [frame_relation(fa, fb) for fa, fb in zip(frames_a, frames_b, strict=True)]
            agree = np.array([r[0] for r in rel], dtype=bool)
            clash = np.array([r[1] for r in rel], dtype=bool)
        else:
            agree = clash = np.zeros(n, dtype=bool)
        scored = np.flatnonzero(~unscored) if unscored is not None else np.arange(n)
        ab = np.tile(np.array([0.0, 1.0, 0.0], np.float32), (n, 1))
        ba = ab.copy()
        if len(scored):
            ab[scored] = self._predict([(texts_a[k], texts_b[k]) for k in scored])
            ask = scored[reverse_can_change(sims[scored], ab[scored], agree[scored], clash[scored], self.threshold,
                                            self.contradiction_threshold, self.entailment_threshold,
                                            self.frame_entailment_threshold)]
            ba[scored] = np.nan  # not asked: cannot change the decision (decide reads NaN as "no")
            if len(ask):
                ba[ask] = self._predict([(texts_b[k], texts_a[k]) for k in ask])
            self.forward_asked += len(scored)
            self.reverse_asked += len(ask)
            self.reverse_skipped += len(scored) - len(ask)
        same, veto = decide(sims, ab, ba, agree, clash, self.threshold, self.contradiction_threshold,
                            self.entailment_threshold, self.frame_entailment_threshold,
                            alike=restates(texts_a, texts_b))
        return Judgement(same=same, link_sim=link_similarity(same, sims, self.threshold), veto=veto, nli_ab=ab,
                         nli_ba=ba)


def link_similarity(same: np.ndarray, sims: np.ndarray, threshold: float) -> np.ndarray:
    """The similarity average-link grouping uses for a pair: a joined borderline pair links at the
    threshold (just similar enough), every other pair at its cosine."""
    sims = np.asarray(sims, dtype=np.float32)
    return np.where(same & (sims < threshold), np.float32(threshold), sims).astype(np.float32)


def decide(sims: np.ndarray, ab: np.ndarray, ba: np.ndarray, agree: np.ndarray, clash: np.ndarray,
           threshold: float, contradiction_threshold: float, entailment_threshold: float | None,
           frame_entailment_threshold: float | None, alike: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The same-claim rule of :class:`NLIJudge` on precomputed scores: (same, veto) per pair. A threshold of
    None turns its rule off (no borderline pair is joined by two-way entailment, or by frames).

    ``alike`` (:func:`claimmatch.nli_rules.restates`) marks pairs where one text says the other with nothing
    added that could turn it: a text does not contradict itself, whatever the model says, so those are never
    vetoed (the shipped model gives an AG News sentence paired with itself p(contradiction) 0.96, which
    split exact duplicates across clusters).

    A pure function so benchmarks/same_claim.py can calibrate the thresholds without rescoring pairs.
    """
    veto = contradiction_score(ab, ba) >= contradiction_threshold
    if alike is not None:
        veto &= ~np.asarray(alike, dtype=bool)
    both_ways = np.zeros(len(sims), dtype=bool)
    if entailment_threshold is not None:
        both_ways = entailment_score(ab, ba) >= entailment_threshold
    framed = np.zeros(len(sims), dtype=bool)
    if frame_entailment_threshold is not None:
        framed = agree & ((ab[:, 0] + ba[:, 0]) / 2 >= frame_entailment_threshold)
    same = ~veto & (((sims >= threshold) & ~clash) | both_ways | framed)
    return same, veto



# Slack on the frame rule's mean: float rounding of (a + b) / 2 must never make a skipped pair count.
_MEAN_SLACK = 1e-6


def reverse_can_change(sims: np.ndarray, ab: np.ndarray, agree: np.ndarray, clash: np.ndarray,
                       threshold: float, contradiction_threshold: float, entailment_threshold: float | None,
                       frame_entailment_threshold: float | None) -> np.ndarray:
    """Pairs whose (b, a) probabilities can still change :func:`decide`, given those of (a, b).

    Each rule of ``decide`` needs the reverse direction only within reach: the veto takes the weaker
    contradiction, so a forward p(contradiction) below ``contradiction_threshold`` rules it out; two-way
    entailment takes the weaker direction, so forward entailment below ``entailment_threshold`` rules it
    out; the frame rule's mean cannot exceed (forward + 1) / 2. A pair at or above the duplicate threshold
    without a polarity clash is the same claim unless vetoed, so only the veto matters there. Every other
    pair gets the same decision whatever (b, a) says (tested on random probabilities), so it is not asked.
    """
    e = ab[:, ENTAILMENT].astype(np.float32)  # decide compares float32 scores
    c = ab[:, CONTRADICTION].astype(np.float32)
    veto_possible = c >= contradiction_threshold
    join_possible = (e >= entailment_threshold if entailment_threshold is not None
                     else np.zeros(len(e), dtype=bool))
    if frame_entailment_threshold is not None:
        mean_max = (ab[:, ENTAILMENT].astype(np.float64) + 1.0) / 2
        join_possible = join_possible | (agree & (mean_max >= frame_entailment_threshold - _MEAN_SLACK))
    joined_anyway = (np.asarray(sims) >= threshold) & ~clash
    return veto_possible | (join_possible & ~joined_anyway)
