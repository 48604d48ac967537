"""The contradiction stage: candidate pairs → NLI (one direction first) and who-did-it frames → topics.

:func:`find_contradictions` is the one entry point; ``claimmatch run``, ``claimmatch contradictions``
and the tests all call it. NLI runs here, not inside the clustering judge, on the pairs that can become
a flagged contradiction only; the second direction is asked only where it can change the decision
(:func:`claimmatch.nli_rules.needs_reverse`). Scores of an earlier run (``known``) are reused for the
pairs whose texts are unchanged, which makes ``contradictions --index`` incremental.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl
import xxhash

from claimmatch.cluster import Candidates, StepClock, pair_cosines
from claimmatch.config import Settings
from claimmatch.contradict.camps import Topic, assign_topics
from claimmatch.contradict.candidates import claim_id_rank, nli_candidates, orient, shared_subject_pairs
from claimmatch.contradict.pairs import BOTH_BASIS, NLI_BASIS, PAIR_SCHEMA, WHO_BASIS, empty_pairs
from claimmatch.contradict.who_did_it import frame_pairs
from claimmatch.judge import claim_frames, clash_reasons
from claimmatch.nli_rules import contradiction_score, entailment_score, needs_reverse, restates
from claimmatch.story import story_similarity


class PairScorer(Protocol):
    """Anything that scores (premise, hypothesis) pairs: (n, 3) entailment/neutral/contradiction."""

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> np.ndarray: ...


SCORE_SCHEMA = {"claim_id_a": pl.String, "claim_id_b": pl.String, "key": pl.UInt64,
                "ab": pl.Array(pl.Float32, 3), "ba": pl.Array(pl.Float32, 3)}


@dataclass
class Contradictions:
    pairs: pl.DataFrame  # flagged pairs (PAIR_SCHEMA), sorted by topic then p(contradiction)
    topics: list[Topic]
    counts: dict
    # Every pair scored for this claims table, with its NLI probabilities (ba null where not needed):
    # what an incremental run stores and passes back as ``known``.
    scores: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SCORE_SCHEMA))
    # Who-did-it's target cells at or above the threshold (TARGET_SCHEMA), passed back as ``known_targets``.
    targets: pl.DataFrame | None = None

    @property
    def camps(self) -> dict[int, tuple[list[int], list[int]]]:
        """Cluster ids on each side of each topic."""
        return {t.topic_id: t.camps for t in self.topics}


def pair_key(text_a: str, text_b: str) -> int:
    """Names the two texts scored, so a stored score is reused only for the same texts."""
    return xxhash.xxh3_64_intdigest(text_a.encode() + b"\x00" + text_b.encode())


class _Scores:
    """Probabilities per oriented pair of rows (a, b): reused from ``known`` where the texts match, else
    asked once.

    Held as arrays sorted by the pair's code ``a * n + b`` rather than dicts keyed by claim-id tuples with
    one small array per value: a corpus has millions of pairs, and each dict entry cost about 0.5 KB.
    """

    def __init__(self, scorer: PairScorer, batch_size: int, known: pl.DataFrame | None,
                 ids: Sequence[str], texts: Sequence[str], fresh: np.ndarray | None = None) -> None:
        self.scorer, self.batch_size = scorer, batch_size
        self.ids, self.texts, self.n = ids, texts, len(ids)
        # per row: the claim is unchanged since the run that stored ``known``
        self.fresh = np.zeros(self.n, bool) if fresh is None else np.asarray(fresh, bool)
        self.codes = np.zeros(0, np.int64)  # sorted
        self.key = np.zeros(0, np.uint64)
        self.ab = np.zeros((0, 3), np.float32)
        self.ba = np.zeros((0, 3), np.float32)
        self.has_ab = np.zeros(0, bool)
        self.has_ba = np.zeros(0, bool)
        self.known = self._index_known(known)
        self.calls = self.reused = 0
        self.seconds = 0.0

    def _index_known(self, known: pl.DataFrame | None) -> tuple[np.ndarray, ...]:
        """Stored scores of pairs whose two claims are still here, as arrays sorted by pair code."""
        if known is None or not len(known):
            return np.zeros(0, np.int64), np.zeros(0, np.uint64), np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)
        rows = pl.DataFrame({"claim_id": pl.Series(self.ids, dtype=pl.String), "row": np.arange(self.n, dtype=np.int64)})
        k = (known.join(rows.rename({"claim_id": "claim_id_a", "row": "ra"}), on="claim_id_a", how="inner")
             .join(rows.rename({"claim_id": "claim_id_b", "row": "rb"}), on="claim_id_b", how="inner"))
        codes = k["ra"].to_numpy() * self.n + k["rb"].to_numpy()
        order = np.argsort(codes, kind="stable")
        # a null direction reads as NaN rows, which never count as a stored score
        ab = np.asarray(k["ab"].to_numpy(), np.float32).reshape(-1, 3)[order]
        ba = np.asarray(k["ba"].to_numpy(), np.float32).reshape(-1, 3)[order]
        return codes[order], k["key"].to_numpy().astype(np.uint64)[order], ab, ba

    def get(self, a: np.ndarray, b: np.ndarray, reverse: bool) -> np.ndarray:
        """Probabilities of the distinct pairs (a[k], b[k]), (b, a) order when ``reverse``."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        if len(a) == 0:
            return np.zeros((0, 3), np.float32)
        codes = a * self.n + b
        pos = np.searchsorted(self.codes, codes)
        present = pos < len(self.codes)
        present[present] = self.codes[pos[present]] == codes[present]
        have = present.copy()
        have[present] = (self.has_ba if reverse else self.has_ab)[pos[present]]
        ask = np.flatnonzero(~have)
        values = np.full((len(ask), 3), np.nan, np.float32)
        keys = np.zeros(len(ask), np.uint64)
        if len(ask):
            texts = self.texts
            kc, kkey, kab, kba = self.known
            kpos = np.searchsorted(kc, codes[ask])
            inside = kpos < len(kc)
            hit = np.zeros(len(ask), bool)
            hit[inside] = kc[kpos[inside]] == codes[ask][inside]
            # Two unchanged claims have the texts their stored score was made from: no need to hash them.
            trusted = hit & self.fresh[a[ask]] & self.fresh[b[ask]]
            keys[trusted] = kkey[kpos[trusted]]
            check = np.flatnonzero(~trusted)
            if len(check):
                xs, ys = a[ask][check].tolist(), b[ask][check].tolist()
                keys[check] = np.fromiter((pair_key(texts[x], texts[y]) for x, y in zip(xs, ys, strict=True)),
                                          dtype=np.uint64, count=len(check))
                if len(kc):
                    hit[check] &= kkey[np.minimum(kpos[check], len(kc) - 1)] == keys[check]
            stored = kba if reverse else kab
            hit[hit] = ~np.isnan(stored[kpos[hit]]).any(axis=1)
            values[hit] = stored[kpos[hit]]
            self.reused += int(hit.sum())
            todo = np.flatnonzero(~hit)
            if len(todo):
                x, y = a[ask][todo].tolist(), b[ask][todo].tolist()
                pairs = [(texts[j], texts[i]) if reverse else (texts[i], texts[j]) for i, j in zip(x, y, strict=True)]
                start = time.perf_counter()
                values[todo] = np.asarray(self.scorer.predict(pairs, batch_size=self.batch_size), np.float32)
                self.seconds += time.perf_counter() - start
                self.calls += len(todo)
            self._store(codes[ask], keys, values, reverse)
        pos = np.searchsorted(self.codes, codes)
        return (self.ba if reverse else self.ab)[pos]

    def _store(self, codes: np.ndarray, keys: np.ndarray, values: np.ndarray, reverse: bool) -> None:
        pos = np.searchsorted(self.codes, codes)
        old = pos < len(self.codes)
        old[old] = self.codes[pos[old]] == codes[old]
        target, flag = (self.ba, self.has_ba) if reverse else (self.ab, self.has_ab)
        target[pos[old]] = values[old]
        flag[pos[old]] = True
        new = ~old
        if not new.any():
            return
        m = int(new.sum())
        nan = np.full((m, 3), np.nan, np.float32)
        codes = np.concatenate([self.codes, codes[new]])
        order = np.argsort(codes, kind="stable")
        self.codes = codes[order]
        self.key = np.concatenate([self.key, keys[new]])[order]
        self.ab = np.concatenate([self.ab, nan if reverse else values[new]])[order]
        self.ba = np.concatenate([self.ba, values[new] if reverse else nan])[order]
        self.has_ab = np.concatenate([self.has_ab, np.full(m, not reverse)])[order]
        self.has_ba = np.concatenate([self.has_ba, np.full(m, reverse)])[order]

    def table(self) -> pl.DataFrame:
        """Every pair with a (a, b) score, in claim-id order: what the store keeps for the next run."""
        keep = np.flatnonzero(self.has_ab)
        a, b = self.codes[keep] // self.n, self.codes[keep] % self.n
        rank = claim_id_rank(self.ids)
        order = keep[np.lexsort((rank[b], rank[a]))]
        a, b = self.codes[order] // self.n, self.codes[order] % self.n
        ids = np.asarray(self.ids, dtype=object)
        return pl.DataFrame({
            "claim_id_a": pl.Series(ids[a], dtype=pl.String), "claim_id_b": pl.Series(ids[b], dtype=pl.String),
            "key": pl.Series(self.key[order], dtype=pl.UInt64),
            "ab": pl.Series(self.ab[order], dtype=pl.Array(pl.Float32, 3)),
            "ba": pl.Series(self.ba[order], dtype=pl.Array(pl.Float32, 3)),
            "has_ba": self.has_ba[order],
        }).with_columns(pl.when(pl.col("has_ba")).then(pl.col("ba")).alias("ba")).drop("has_ba").cast(SCORE_SCHEMA)


def find_contradictions(claims: pl.DataFrame, vectors: np.ndarray, faiss_index_or_candidates,
                        clusters: np.ndarray | Sequence[int], scorer: PairScorer, settings: Settings, *,
                        encode: Callable[[list[str]], np.ndarray] | None = None,
                        known: pl.DataFrame | None = None, fresh: np.ndarray | None = None,
                        known_targets: pl.DataFrame | None = None,
                        timings: dict[str, float] | None = None) -> Contradictions:
    """Flag cross-outlet claim pairs that contradict (NLI) or disagree on who did it (frames).

    ``claims`` rows match ``vectors`` rows (and FAISS ids); ``clusters`` gives each row's near-duplicate
    cluster id. The NLI text is ``settings.embed_field``. Who-did-it needs the frame columns of the
    claims table and ``encode`` (the run's embedder) to compare agents, predicates and patients.
    ``known``: scores stored by an earlier run; ``fresh`` marks the rows whose claims have not changed
    since (their pairs' stored scores are taken without hashing the texts again). ``known_targets``:
    who-did-it's target cells stored by an earlier run with this embedder and target threshold (only
    targets not among them are compared with all the others). ``timings`` receives
    the seconds of each step (candidates, nli, who_did_it, topics).
    """
    clock = StepClock(timings)
    text_col = settings.embed_field if settings.embed_field in claims.columns else "text"
    claims = claims.with_columns(pl.Series("cluster_id", np.asarray(clusters, dtype=np.int64)))
    ids = claims["claim_id"].to_list()
    texts = claims[text_col].to_list()
    cl = claims["cluster_id"].to_numpy()
    scores = _Scores(scorer, settings.batch_size, known, ids, texts, fresh)
    shared = (shared_subject_pairs(claims, settings.subject_key_max_claims)
              if settings.subject_key_max_claims >= 2 else None)
    cand, cuts = nli_candidates(vectors, faiss_index_or_candidates, ids, claims["outlet"].to_list(), cl,
                                neighbors=settings.neighbors, min_similarity=settings.candidate_threshold,
                                within_outlet=settings.within_outlet, shared_subject=shared)
    del shared
    doc_ids = claims["doc_id"].to_list() if "doc_id" in claims.columns else ids
    cand, cuts["dropped_other_story"] = _one_story(cand, doc_ids, vectors, settings.story_threshold)
    clock("candidates")
    ab = scores.get(cand.i, cand.j, reverse=False)
    second = np.flatnonzero(needs_reverse(ab, settings.contradiction_rule, settings.contradiction_threshold))
    ba = np.full_like(ab, np.nan)
    ba[second] = scores.get(cand.i[second], cand.j[second], reverse=True)
    p_con = np.zeros(len(ab), np.float32)
    p_ent = np.zeros(len(ab), np.float32)
    p_con[second] = contradiction_score(ab[second], ba[second], settings.contradiction_rule)
    p_ent[second] = entailment_score(ab[second], ba[second])
    hit = np.zeros(len(ab), dtype=bool)
    hit[second] = p_con[second] >= settings.contradiction_threshold
    hit[hit] = ~restates([texts[i] for i in cand.i[hit]], [texts[j] for j in cand.j[hit]])
    reasons = frame_clashes(claims, cand.i[hit], cand.j[hit])
    if settings.nli_flag_needs_clash:
        hit[hit] = [bool(r) for r in reasons]
        reasons = [r for r in reasons if r]
    del ab, ba
    flagged = {(ids[i], ids[j]): (i, j, float(cand.sim[k]), float(p_con[k]), float(p_ent[k]), "; ".join(why) or None)
               for k, i, j, why in zip(np.flatnonzero(hit).tolist(), cand.i[hit].tolist(), cand.j[hit].tolist(),
                                       reasons, strict=True)}
    nli_keys = set(flagged)
    n_nli = len(nli_keys)
    n_cand, n_second = len(cand), len(second)
    del cand, p_con, p_ent, hit, second
    clock("nli")

    frames: dict[tuple[str, str], tuple[int, int]] = {}
    n_frame_candidates = n_frame_other_story = 0
    targets = None
    if encode is not None and all(c in claims.columns for c in ("agent", "predicate", "patient")):
        fp = frame_pairs(claims, cl, vectors, encode, predicate_threshold=settings.predicate_threshold,
                         target_threshold=settings.target_threshold, agent_threshold=settings.agent_threshold,
                         subject_threshold=settings.who_subject_threshold,
                         other_verb_claim_threshold=settings.candidate_threshold, within_outlet=settings.within_outlet,
                         known_targets=known_targets, verb_threshold=settings.verb_threshold)
        n_frame_candidates, targets = len(fp), fp.targets
        story = story_similarity(doc_ids, vectors, fp.i, fp.j) >= settings.story_threshold
        n_frame_other_story = int((~story).sum())
        fi, fj = orient(ids, fp.i[story], fp.j[story])
        # Both directions always: a who-did-it pair is reported with its NLI scores whatever they are.
        fab = scores.get(fi, fj, reverse=False)
        fba = scores.get(fi, fj, reverse=True)
        agree = entailment_score(fab, fba) >= settings.entailment_threshold  # NLI says they say the same
        fcon = contradiction_score(fab, fba, settings.contradiction_rule)
        fent = entailment_score(fab, fba)
        sims = pair_cosines(vectors, fi, fj) if len(fi) else np.zeros(0, np.float32)
        for k in np.flatnonzero(~agree).tolist():
            i, j = int(fi[k]), int(fj[k])
            frames[(ids[i], ids[j])] = (i, j)
            flagged.setdefault((ids[i], ids[j]), (i, j, round(float(sims[k]), 6), float(fcon[k]), float(fent[k]), None))
    clock("who_did_it")
    table = _pair_table(claims, flagged, nli_keys, frames, text_col)
    pairs, topics = assign_topics(table, claims)
    clock("topics")
    n_who = int((pairs["basis"] == WHO_BASIS).sum())
    counts = {
        "contradiction_candidates": n_cand, **{f"candidates_{k}": v for k, v in cuts.items()},
        "who_did_it_candidates": n_frame_candidates, "who_did_it_dropped_other_story": n_frame_other_story,
        "contradiction_pairs": len(pairs),
        "contradiction_pairs_nli": n_nli, "contradiction_pairs_who_did_it": n_who,
        "contradiction_topics": len(topics), "nli_calls": scores.calls, "nli_calls_reverse_skipped":
            n_cand - n_second, "nli_pairs_reused": scores.reused,
        "nli_seconds": round(scores.seconds, 3),
    }
    return Contradictions(pairs, topics, counts, scores.table(), targets)


def frame_clashes(claims: pl.DataFrame, i: np.ndarray, j: np.ndarray) -> list[list[str]]:
    """Why each pair's frames clash (:func:`claimmatch.judge.clash_reasons`): one claim negates what the
    other asserts, their verbs are antonyms, their numbers or dates do not fit, or doer and target are
    swapped; empty where they do not,
    and for tables without frame columns. The NLI path wants such a reason (``nli_flag_needs_clash``): on
    real news the model calls parallel statements about two things contradictions ("Women's tennis is
    exciting" / "Men's tennis is exciting as well", "Liam Neeson won best actor for Kinsey" / "Jamie Foxx
    won best actor for Ray"); which of two parties did something is who-did-it's question."""
    frame = claim_frames(claims, np.unique(np.concatenate([i, j]))) if len(i) else None
    if frame is None:
        return [[] for _ in range(len(i))]
    return [clash_reasons(frame[a], frame[b]) for a, b in zip(i.tolist(), j.tolist(), strict=True)]


def _one_story(cand: Candidates, doc_ids: Sequence[str], vectors, threshold: float) -> tuple[Candidates, int]:
    """The candidate pairs whose documents report one story (:mod:`claimmatch.story`), and how
    many were dropped: asking the model about two stories only finds flags nobody should read."""
    keep = story_similarity(doc_ids, vectors, cand.i, cand.j) >= threshold
    return Candidates(cand.i[keep], cand.j[keep], cand.sim[keep]), int((~keep).sum())


def _pair_table(claims: pl.DataFrame, flagged: dict, nli_keys: set, frames: dict, text_col: str) -> pl.DataFrame:
    if not flagged:
        return empty_pairs(with_topic=False)
    cols = claims.select("claim_id", "doc_id", "outlet", text_col, "speaker", "cluster_id").rows()
    frame_cols = (claims.select("agent", "predicate", "patient").rows()
                  if all(c in claims.columns for c in ("agent", "predicate", "patient")) else None)
    rows = []
    for key in sorted(flagged):
        i, j, sim, p_con, p_ent, reason = flagged[key]
        a, b = cols[i], cols[j]
        who, nli = key in frames, key in nli_keys
        basis = BOTH_BASIS if who and nli else WHO_BASIS if who else NLI_BASIS
        fa = frame_cols[i] if who and frame_cols else (None, None, None)
        fb = frame_cols[j] if who and frame_cols else (None, None, None)
        rows.append({"claim_id_a": a[0], "claim_id_b": b[0], "doc_id_a": a[1], "doc_id_b": b[1],
                     "outlet_a": a[2], "outlet_b": b[2], "text_a": a[3], "text_b": b[3],
                     "speaker_a": a[4], "speaker_b": b[4], "similarity": round(sim, 4),
                     "p_contradiction": round(p_con, 4), "p_entailment": round(p_ent, 4),
                     "cluster_id_a": a[5], "cluster_id_b": b[5], "basis": basis, "reason": reason,
                     "agent_a": fa[0], "agent_b": fb[0], "predicate": fa[1] if fa[1] == fb[1] or not who
                     else f"{fa[1]} / {fb[1]}", "patient": fa[2]})
    return pl.DataFrame(rows, schema={c: t for c, t in PAIR_SCHEMA.items() if c != "topic_id"})
