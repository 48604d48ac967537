"""Wires the stages: ingest → clean → claims → embed → index → cluster → contradictions → reports.

``run`` is what ``claimmatch run`` calls and what Python users call.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from claimmatch import __version__
from claimmatch.cluster import ClusterResult, KnownVerdicts, cluster_claims
from claimmatch.config import Settings
from claimmatch.contradict import Contradictions, find_contradictions
from claimmatch.contradict import store as contradiction_store
from claimmatch.embed import Embedder, MiniLMEmbedder, cached_encoder
from claimmatch.errors import InputError
from claimmatch.ingest import load_documents
from claimmatch.judge import FRAME_RULES, CosineJudge, NLIJudge, PairJudge
from claimmatch.parser import extractor_info
from claimmatch.prepare import prepare
from claimmatch.records import CLAIM_COLUMNS, IngestReport
from claimmatch.report import (
    commit_outputs,
    json_writer,
    parquet_writer,
    render_clusters_md,
    render_contradictions_md,
    text_writer,
)
from claimmatch.scoring import scorer_counters
from claimmatch.store import build_faiss, index_path, open_index, save_index

log = logging.getLogger(__name__)

CLAIM_OUTPUT_COLUMNS = [*CLAIM_COLUMNS, "cluster_id"]
# run.json names at most this many documents without claims (the count is always exact).
MAX_NAMED = 1000


@dataclass
class Timer:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str):
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


@dataclass
class RunResult:
    out_dir: Path
    files: list[Path]
    claims: pl.DataFrame
    clusters: pl.DataFrame
    info: dict


def default_embedder(settings: Settings) -> Embedder:
    return MiniLMEmbedder(batch_size=settings.batch_size)


def versions() -> dict[str, str]:
    """Installed versions, read from package metadata: importing torch just to print it costs ~0.5 GB."""
    from importlib.metadata import PackageNotFoundError, version

    def v(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "not installed"

    import faiss

    return {"claimmatch": __version__, "python": platform.python_version(), "polars": pl.__version__,
            "faiss": faiss.__version__, "torch": v("torch"), "sentence_transformers": v("sentence-transformers")}


def make_judge(settings: Settings, nli_model=None) -> PairJudge:
    if nli_model is None:
        return CosineJudge(settings.threshold)
    band = settings.band_join
    return NLIJudge(nli_model, settings.threshold, settings.candidate_threshold,
                    settings.contradiction_threshold, settings.entailment_threshold if band else None,
                    settings.batch_size, settings.frame_entailment_threshold if band else None)


def judge_setup(judge: PairJudge, settings: Settings) -> dict:
    """What a judge's verdict on a pair depends on besides the two claims: stored verdicts are reused only
    under the same setup."""
    names = ("threshold", "min_similarity", "contradiction_threshold", "entailment_threshold",
             "frame_entailment_threshold")
    return {"judge": judge.name, "model": getattr(getattr(judge, "model", None), "name", None),
            "text": settings.embed_field, "story_threshold": settings.story_threshold, "frame_rules": FRAME_RULES,
            **{k: getattr(judge, k, None) for k in names}}


def load_nli(settings: Settings):
    """The NLI model behind a PairScorer: memo, result cache, blocks with progress, local or Ray engine."""
    if not settings.use_nli:
        return None
    from claimmatch.scoring import load_scorer

    return load_scorer(settings)


def _model_calls(scorer) -> int | None:
    """Pairs a :class:`claimmatch.scoring.PairScorer` has had its model score so far (None for a bare model)."""
    calls = getattr(scorer, "calls", None)
    return calls if isinstance(calls, int) else None


def analyze(claims: pl.DataFrame, vectors: np.ndarray, faiss_index, settings: Settings, judge: PairJudge,
            timer: Timer, header: dict, encode: Callable[[list[str]], np.ndarray] | None = None,
            known: pl.DataFrame | None = None, fresh: np.ndarray | None = None,
            verdicts: KnownVerdicts | None = None, known_targets: pl.DataFrame | None = None) -> tuple[dict, dict]:
    """Cluster, then (with an NLI model) flag contradictions; returns output writers and counts.

    ``known`` and ``verdicts``: NLI scores and judge verdicts stored by an earlier ``contradictions`` run
    on the same index, reused for pairs of claims that ``fresh`` marks unchanged; ``known_targets``: its
    who-did-it target cells.
    """
    model_calls = _model_calls(getattr(judge, "model", None))
    steps: dict[str, float] = {}
    with timer.stage("cluster"):
        result: ClusterResult = cluster_claims(claims, vectors, faiss_index, judge, settings.neighbors,
                                               settings.embed_field, known=verdicts, timings=steps,
                                               story_threshold=settings.story_threshold)
    timer.seconds.update({f"cluster_{k}": v for k, v in steps.items()})
    claims_out = result.claims.select(CLAIM_OUTPUT_COLUMNS)
    clusters = result.clusters
    counts = {"clusters": len(clusters), "cross_outlet_clusters": int((clusters["n_outlets"] > 1).sum()),
              "candidate_pairs": len(result.candidates)}
    with timer.stage("report"):
        writers = {
            "claims.parquet": parquet_writer(claims_out),
            "clusters.parquet": parquet_writer(clusters),
            "clusters.md": text_writer(render_clusters_md(claims_out, clusters, header)),
        }
    out = {"counts": counts, "claims": claims_out, "clusters": clusters, "contradictions": None, "cluster": result}
    scorer = getattr(judge, "model", None)
    if scorer is None:
        return writers, out
    judge_calls = getattr(judge, "pairs_scored", 2 * len(result.candidates))
    judge_counts = judge.counts() if hasattr(judge, "counts") else {}
    after_cluster = _model_calls(scorer)
    steps = {}
    with timer.stage("contradictions"):
        # Clustering retrieved neighbours down to the candidate threshold already: reuse them.
        source = result.candidates if judge.min_similarity <= settings.candidate_threshold else faiss_index
        found: Contradictions = find_contradictions(result.claims, vectors, source, result.claims["cluster_id"].to_numpy(),
                                                    scorer, settings, encode=encode, known=known, fresh=fresh,
                                                    known_targets=known_targets, timings=steps)
    timer.seconds.update({f"contradictions_{k}": v for k, v in steps.items()})
    if after_cluster is not None and model_calls is not None:
        # pairs the model itself scored (not answered by the memo or the result cache), per stage
        judge_counts["model_calls_cluster"] = after_cluster - model_calls
        judge_counts["model_calls_contradictions"] = _model_calls(scorer) - after_cluster
    if hasattr(judge, "seconds"):
        judge_counts["nli_seconds_cluster"] = round(judge.seconds, 3)
    nli_seconds = getattr(judge, "seconds", 0.0) + found.counts["nli_seconds"]
    n_scored = judge_calls + found.counts["nli_calls"]
    counts.update({**found.counts, **judge_counts, "nli_calls_cluster": judge_calls, "nli_pairs_scored": n_scored,
                   "nli_pairs_per_s": round(n_scored / nli_seconds, 1) if nli_seconds else None})
    with timer.stage("report"):
        md = render_contradictions_md(found.pairs, found.topics, claims_out, {
            **header, "claims": len(claims_out), "clusters": len(clusters),
            "nli_model": getattr(scorer, "name", "nli"), "contradiction_threshold": settings.contradiction_threshold,
            "nli_flag_needs_clash": settings.nli_flag_needs_clash,
            "contradiction_rule": settings.contradiction_rule, "predicate_threshold": settings.predicate_threshold,
            "agent_threshold": settings.agent_threshold, "target_threshold": settings.target_threshold,
            "candidate_threshold": settings.candidate_threshold, "within_outlet": settings.within_outlet,
            "candidates": found.counts["contradiction_candidates"]})
        writers["contradictions.parquet"] = parquet_writer(found.pairs)
        writers["contradictions.md"] = text_writer(md)
    out["contradictions"] = found
    return writers, out


def run(inputs: list[Path | str], out_dir: Path | str, settings: Settings | None = None, *,
        index: str | None = None, outlets: Path | None = None, embedder: Embedder | None = None,
        judge: PairJudge | None = None) -> RunResult:
    """Run the whole job on ``inputs`` and write the reports into ``out_dir``."""
    settings = settings or Settings()
    timer = Timer()
    report = IngestReport()
    out_dir = Path(out_dir)
    with timer.stage("ingest"):
        docs = load_documents([Path(p) for p in inputs], report, outlets=outlets, strict=settings.strict,
                              skip_bad_rows=settings.skip_bad_rows)
    if not docs:
        raise InputError(f"no readable articles in {', '.join(str(p) for p in inputs)}")
    embedder = embedder or default_embedder(settings)
    prepared = prepare(docs, settings, embedder)
    claims, vectors, stats = prepared.claims, prepared.vectors, prepared.stats
    for stage in ("clean", "claims", "embed"):
        timer.seconds[stage] = round(stats[f"{stage}_s"], 3)
    if prepared.no_claims:
        log.warning("%d of %d documents gave no claim; run.json lists them under 'documents_without_claims'",
                    len(prepared.no_claims), len(docs))
    with timer.stage("index"):
        faiss_index = build_faiss(vectors)
        index_dir = None
        if index:
            index_dir = index_path(index, settings.index_dir)
            save_index(index_dir, claims, vectors, embedder, embed_field=settings.embed_field,
                       extractor=extractor_info())
    with timer.stage("load_nli"):
        judge = judge or make_judge(settings, load_nli(settings))
    n_outlets = len({d.outlet for d in docs})
    header = {"documents": len(docs), "outlets": n_outlets, "model": embedder.name, "judge": judge.name,
              "threshold": settings.threshold, "neighbors": settings.neighbors,
              "embed_field": settings.embed_field}
    writers, out = analyze(claims, vectors, faiss_index, settings, judge, timer, header,
                           cached_encoder(embedder, settings.resolved_cache_dir(), settings.batch_size))
    info = {
        "settings": settings.as_dict(),
        "inputs": [str(p) for p in inputs],
        "index": str(index_dir) if index_dir else None,
        "model": embedder.name,
        "judge": judge.name,
        "extractor": extractor_info(),
        "versions": versions(),
        "counts": {
            "documents": len(docs), "documents_without_claims": len(prepared.no_claims), "outlets": n_outlets, "files_read": report.files_read,
            "skipped_files": len(report.skipped_files), "skipped_rows": len(report.skipped_rows),
            "claims": len(claims), "embedded": stats.get("embedded", 0),
            "embeddings_from_cache": stats.get("from_cache", 0), **out["counts"],
        },
        "nli": scorer_counters(getattr(judge, "model", None)),
        "documents_without_claims": prepared.no_claims[:MAX_NAMED],
        "skipped_files": report.skipped_files,
        "skipped_rows": report.skipped_rows,
        "warnings": report.warnings,
        "timings_s": timer.seconds,
    }
    writers["run.json"] = json_writer(info)
    files = commit_outputs(out_dir, writers)
    return RunResult(out_dir, files, out["claims"], out["clusters"], info)


def contradictions(index: str, out_dir: Path | str, settings: Settings | None = None, *,
                   embedder: Embedder | None = None, judge: PairJudge | None = None,
                   full: bool = False) -> RunResult:
    """Cluster and flag contradictions for an existing index; writes the same files as ``run``.

    NLI scores are stored in the index's ``contradictions/`` folder; a rerun (after ``index add``) scores
    only pairs it has not scored before, and gives the same reports as a run from scratch (``full``).
    """
    settings = settings or Settings()
    timer = Timer()
    embedder = embedder or default_embedder(settings)
    path = index_path(index, settings.index_dir)
    with timer.stage("load_index"), open_index(path, settings, embedder) as snapshot:
        stored = snapshot.load()
    # The index's vectors were made from one claim field; judging must read the same field.
    settings = replace(settings, embed_field=stored.manifest.get("embed_field") or settings.embed_field)
    with timer.stage("load_nli"):
        judge = judge or make_judge(settings, load_nli(settings) if settings.use_nli else None)
    claims = stored.claims
    header = {"documents": claims["doc_id"].n_unique(), "outlets": claims["outlet"].n_unique(),
              "model": embedder.name, "judge": judge.name, "threshold": settings.threshold,
              "neighbors": settings.neighbors, "embed_field": settings.embed_field}
    scorer = getattr(judge, "model", None)
    folder = contradiction_store.store_dir(path)
    model_name = getattr(scorer, "name", type(scorer).__name__)
    setup = judge_setup(judge, settings)
    who_setup = {"embedder": embedder.name, "target_threshold": settings.target_threshold}
    with timer.stage("load_stored"):
        ids = claims["claim_id"].to_list()
        keys = contradiction_store.claim_keys(claims) if scorer is not None else None
        previous = (contradiction_store.load(folder, model_name, setup, who_setup) if scorer is not None and not full
                    else contradiction_store.Stored(None))
        fresh = verdicts = None
        if previous.scores is not None:
            fresh, row_of = contradiction_store.unchanged(previous, ids, keys)
            verdicts = contradiction_store.known_verdicts(previous, row_of, len(ids))
    writers, out = analyze(claims, stored.vectors, stored.faiss_index, settings, judge, timer, header,
                           cached_encoder(embedder, settings.resolved_cache_dir(), settings.batch_size),
                           known=previous.scores, fresh=fresh, verdicts=verdicts, known_targets=previous.targets)
    counts = {"documents": header["documents"], "claims": len(claims), **out["counts"]}
    if previous.scores is not None:
        seen, live = previous.ids, set(ids)
        counts.update({"claims_new": len(live - seen), "claims_removed": len(seen - live),
                       "claims_unchanged": int(fresh.sum()),
                       "judge_verdicts_reused": out["cluster"].reused})
    info = {"settings": settings.as_dict(), "index": str(path), "model": embedder.name, "judge": judge.name,
            "versions": versions(), "counts": counts, "nli": scorer_counters(getattr(judge, "model", None)),
            "timings_s": timer.seconds}
    writers["run.json"] = json_writer(info)
    files = commit_outputs(Path(out_dir), writers)
    if out["contradictions"] is not None:  # after the reports: a failed run leaves the store as it was
        with timer.stage("save_stored"):
            judged = contradiction_store.verdict_table(ids, out["cluster"].candidates, out["cluster"].judgement,
                                                       out["cluster"].judged)
            contradiction_store.save(folder, out["contradictions"].scores, ids, keys, model_name, judged, setup,
                                     out["contradictions"].targets, who_setup)
    return RunResult(Path(out_dir), files, out["claims"], out["clusters"], info)
