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

from claimmatch.cluster import pair_cosines
from claimmatch.config import Settings
from claimmatch.contradict.camps import Topic, assign_topics
from claimmatch.contradict.candidates import nli_candidates, orient, subject_keys, subject_pairs
from claimmatch.contradict.pairs import BOTH_BASIS, NLI_BASIS, PAIR_SCHEMA, WHO_BASIS, empty_pairs
from claimmatch.contradict.who_did_it import frame_pairs
from claimmatch.nli_rules import contradiction_score, entailment_score, needs_reverse


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

    @property
    def camps(self) -> dict[int, tuple[list[int], list[int]]]:
        """Cluster ids on each side of each topic."""
        return {t.topic_id: t.camps for t in self.topics}


def pair_key(text_a: str, text_b: str) -> int:
    """Names the two texts scored, so a stored score is reused only for the same texts."""
    return xxhash.xxh3_64_intdigest(text_a.encode() + b"\x00" + text_b.encode())


class _Scores:
    """Probabilities per oriented pair: reused from ``known`` where the texts match, else asked once."""

    def __init__(self, scorer: PairScorer, batch_size: int, known: pl.DataFrame | None) -> None:
        self.scorer, self.batch_size = scorer, batch_size
        self.ab: dict[tuple[str, str], np.ndarray] = {}
        self.ba: dict[tuple[str, str], np.ndarray] = {}
        self.keys: dict[tuple[str, str], int] = {}
        self.known: dict[tuple[str, str], tuple[int, np.ndarray | None, np.ndarray | None]] = {}
        if known is not None:
            for a, b, key, ab, ba in known.iter_rows():
                self.known[(a, b)] = (key, None if ab is None else np.asarray(ab, np.float32),
                                      None if ba is None else np.asarray(ba, np.float32))
        self.calls = self.reused = 0
        self.seconds = 0.0

    def get(self, pairs: list[tuple[str, str]], texts: list[tuple[str, str]], reverse: bool) -> np.ndarray:
        store = self.ba if reverse else self.ab
        todo = []
        for p, (ta, tb) in zip(pairs, texts, strict=True):
            if p in store:
                continue
            key = self.keys.setdefault(p, pair_key(ta, tb))
            old = self.known.get(p)
            hit = old[2 if reverse else 1] if old is not None and old[0] == key else None
            if hit is not None:
                store[p] = hit
                self.reused += 1
            else:
                todo.append((p, (tb, ta) if reverse else (ta, tb)))
        if todo:
            start = time.perf_counter()
            probs = np.asarray(self.scorer.predict([t for _, t in todo], batch_size=self.batch_size), np.float32)
            self.seconds += time.perf_counter() - start
            self.calls += len(todo)
            for (p, _), row in zip(todo, probs, strict=True):
                store[p] = row
        return np.stack([store[p] for p in pairs]) if pairs else np.zeros((0, 3), np.float32)

    def table(self) -> pl.DataFrame:
        rows = sorted(self.ab)
        return pl.DataFrame({
            "claim_id_a": [a for a, _ in rows], "claim_id_b": [b for _, b in rows],
            "key": [self.keys[p] for p in rows],
            "ab": [self.ab[p].tolist() for p in rows],
            "ba": [self.ba[p].tolist() if p in self.ba else None for p in rows],
        }, schema=SCORE_SCHEMA)


def find_contradictions(claims: pl.DataFrame, vectors: np.ndarray, faiss_index_or_candidates,
                        clusters: np.ndarray | Sequence[int], scorer: PairScorer, settings: Settings, *,
                        encode: Callable[[list[str]], np.ndarray] | None = None,
                        known: pl.DataFrame | None = None) -> Contradictions:
    """Flag cross-outlet claim pairs that contradict (NLI) or disagree on who did it (frames).

    ``claims`` rows match ``vectors`` rows (and FAISS ids); ``clusters`` gives each row's near-duplicate
    cluster id. The NLI text is ``settings.embed_field``. Who-did-it needs the frame columns of the
    claims table and ``encode`` (the run's embedder) to compare agents, predicates and patients.
    """
    text_col = settings.embed_field if settings.embed_field in claims.columns else "text"
    claims = claims.with_columns(pl.Series("cluster_id", np.asarray(clusters, dtype=np.int64)))
    ids = claims["claim_id"].to_list()
    texts = claims[text_col].to_list()
    cl = claims["cluster_id"].to_numpy()
    scores = _Scores(scorer, settings.batch_size, known)
    shared = (subject_pairs(subject_keys(claims), settings.subject_key_max_claims)
              if settings.subject_key_max_claims >= 2 else None)
    cand, cuts = nli_candidates(vectors, faiss_index_or_candidates, ids, claims["outlet"].to_list(), cl,
                                neighbors=settings.neighbors, min_similarity=settings.candidate_threshold,
                                within_outlet=settings.within_outlet, shared_subject=shared)
    keys = [(ids[a], ids[b]) for a, b in zip(cand.i.tolist(), cand.j.tolist(), strict=True)]
    pair_texts = [(texts[a], texts[b]) for a, b in zip(cand.i.tolist(), cand.j.tolist(), strict=True)]
    ab = scores.get(keys, pair_texts, reverse=False)
    second = np.flatnonzero(needs_reverse(ab, settings.contradiction_rule, settings.contradiction_threshold))
    ba = np.full_like(ab, np.nan)
    ba[second] = scores.get([keys[k] for k in second], [pair_texts[k] for k in second], reverse=True)
    p_con = np.zeros(len(ab), np.float32)
    p_ent = np.zeros(len(ab), np.float32)
    p_con[second] = contradiction_score(ab[second], ba[second], settings.contradiction_rule)
    p_ent[second] = entailment_score(ab[second], ba[second])
    hit = np.zeros(len(ab), dtype=bool)
    hit[second] = p_con[second] >= settings.contradiction_threshold
    flagged = {keys[k]: (int(cand.i[k]), int(cand.j[k]), float(cand.sim[k]), float(p_con[k]), float(p_ent[k]))
               for k in np.flatnonzero(hit).tolist()}
    nli_keys = set(flagged)
    n_nli = len(nli_keys)

    frames: dict[tuple[str, str], tuple[int, int]] = {}
    n_frame_candidates = 0
    if encode is not None and all(c in claims.columns for c in ("agent", "predicate", "patient")):
        fp = frame_pairs(claims, cl, vectors, encode, predicate_threshold=settings.predicate_threshold,
                         target_threshold=settings.target_threshold, agent_threshold=settings.agent_threshold,
                         subject_threshold=settings.who_subject_threshold,
                         other_verb_claim_threshold=settings.candidate_threshold, within_outlet=settings.within_outlet)
        n_frame_candidates = len(fp)
        fi, fj = orient(ids, fp.i, fp.j)
        fkeys = [(ids[a], ids[b]) for a, b in zip(fi.tolist(), fj.tolist(), strict=True)]
        ftexts = [(texts[a], texts[b]) for a, b in zip(fi.tolist(), fj.tolist(), strict=True)]
        # Both directions always: a who-did-it pair is reported with its NLI scores whatever they are.
        fab = scores.get(fkeys, ftexts, reverse=False)
        fba = scores.get(fkeys, ftexts, reverse=True)
        agree = entailment_score(fab, fba) >= settings.entailment_threshold  # NLI says they say the same
        fcon = contradiction_score(fab, fba, settings.contradiction_rule)
        fent = entailment_score(fab, fba)
        sims = pair_cosines(vectors, fi, fj) if len(fi) else np.zeros(0, np.float32)
        for k in np.flatnonzero(~agree).tolist():
            frames[fkeys[k]] = (int(fi[k]), int(fj[k]))
            flagged.setdefault(fkeys[k], (int(fi[k]), int(fj[k]), round(float(sims[k]), 6), float(fcon[k]),
                                          float(fent[k])))
    table = _pair_table(claims, flagged, nli_keys, frames, text_col)
    pairs, topics = assign_topics(table, claims)
    n_who = int((pairs["basis"] == WHO_BASIS).sum())
    counts = {
        "contradiction_candidates": len(cand), **{f"candidates_{k}": v for k, v in cuts.items()},
        "who_did_it_candidates": n_frame_candidates, "contradiction_pairs": len(pairs),
        "contradiction_pairs_nli": n_nli, "contradiction_pairs_who_did_it": n_who,
        "contradiction_topics": len(topics), "nli_calls": scores.calls, "nli_calls_reverse_skipped":
            len(cand) - len(second), "nli_pairs_reused": scores.reused,
        "nli_seconds": round(scores.seconds, 3),
    }
    return Contradictions(pairs, topics, counts, scores.table())


def _pair_table(claims: pl.DataFrame, flagged: dict, nli_keys: set, frames: dict, text_col: str) -> pl.DataFrame:
    if not flagged:
        return empty_pairs(with_topic=False)
    cols = claims.select("claim_id", "doc_id", "outlet", text_col, "speaker", "cluster_id").rows()
    frame_cols = (claims.select("agent", "predicate", "patient").rows()
                  if all(c in claims.columns for c in ("agent", "predicate", "patient")) else None)
    rows = []
    for key in sorted(flagged):
        i, j, sim, p_con, p_ent = flagged[key]
        a, b = cols[i], cols[j]
        who, nli = key in frames, key in nli_keys
        basis = BOTH_BASIS if who and nli else WHO_BASIS if who else NLI_BASIS
        fa = frame_cols[i] if who and frame_cols else (None, None, None)
        fb = frame_cols[j] if who and frame_cols else (None, None, None)
        rows.append({"claim_id_a": a[0], "claim_id_b": b[0], "doc_id_a": a[1], "doc_id_b": b[1],
                     "outlet_a": a[2], "outlet_b": b[2], "text_a": a[3], "text_b": b[3],
                     "speaker_a": a[4], "speaker_b": b[4], "similarity": round(sim, 4),
                     "p_contradiction": round(p_con, 4), "p_entailment": round(p_ent, 4),
                     "cluster_id_a": a[5], "cluster_id_b": b[5], "basis": basis,
                     "agent_a": fa[0], "agent_b": fb[0], "predicate": fa[1] if fa[1] == fb[1] or not who
                     else f"{fa[1]} / {fb[1]}", "patient": fa[2]})
    return pl.DataFrame(rows, schema={c: t for c, t in PAIR_SCHEMA.items() if c != "topic_id"})
