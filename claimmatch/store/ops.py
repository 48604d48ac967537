"""Index operations for large corpora: streaming build, incremental add, remove, info, search, cluster.

Documents stream from :func:`ingest.iter_documents` into chunks; each chunk is cleaned, split into
claims, embedded and committed on its own (see :class:`store.writer.IndexWriter`), so memory does not grow
with the corpus and a killed build resumes at the first uncommitted chunk. A document is identified by
``doc_id`` and a hash of its content, so unchanged documents are never processed twice. Readers work on a
pinned generation (:func:`store.reader.open_index`), so a concurrent commit never changes what they see.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.embed import Embedder
from claimmatch.engines import Engine, get_engine
from claimmatch.errors import ClaimmatchError, InputError
from claimmatch.ingest import iter_documents
from claimmatch.progress import progress
from claimmatch.records import Document, IngestReport
from claimmatch.store.faiss_build import LiveIndex, search
from claimmatch.store.layout import index_path
from claimmatch.store.manifest import read_manifest
from claimmatch.store.reader import open_index
from claimmatch.store.writer import IndexWriter

CHUNK_DOCS = 1000


def doc_hash(doc: Document) -> str:
    """Content hash over every field that ends up in a claim row (not the file it came from)."""
    payload = json.dumps([doc.text, doc.title, doc.outlet, doc.url, doc.published], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class UpdateReport:
    path: Path
    manifest: dict
    documents_seen: int = 0
    unchanged: int = 0
    added: int = 0
    changed: int = 0
    removed: int = 0
    claims_added: int = 0
    embedded: int = 0
    from_cache: int = 0
    chunks: int = 0
    ingest: IngestReport = field(default_factory=IngestReport)
    timings_s: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in ("path", "manifest", "ingest")} | {
            "index": str(self.path), "skipped_files": len(self.ingest.skipped_files),
            "skipped_rows": len(self.ingest.skipped_rows)}


def _default_embedder(settings: Settings) -> Embedder:
    from claimmatch.pipeline import default_embedder

    return default_embedder(settings)


def update_index(inputs: list[Path | str], name: str, settings: Settings | None = None, *, mode: str = "build",
                 embedder: Embedder | None = None, engine: Engine | None = None, outlets: Path | None = None,
                 index_type: str = "auto", chunk_docs: int = CHUNK_DOCS, on_commit=None,
                 extractor: dict | None = None) -> UpdateReport:
    """Bring index ``name`` up to date with ``inputs``, one committed chunk at a time.

    ``mode="build"`` makes the index hold exactly the input documents (documents no longer in the inputs
    are removed at the end); ``mode="add"`` only adds new and changed ones. Either way a document whose
    content hash is already live is skipped, which is also how a rerun resumes an interrupted build.
    ``on_commit(report)`` runs after each committed chunk (progress hooks, tests). ``extractor`` describes
    the claim extractor (recorded; an index built by another one is refused).
    """
    if mode not in ("build", "add"):
        raise ValueError(mode)
    if chunk_docs < 1:
        raise ClaimmatchError("--chunk-docs must be at least 1")
    settings = settings or Settings()
    embedder = embedder or _default_embedder(settings)
    engine = engine or get_engine("local")
    path = index_path(name, settings.index_dir)
    start = time.perf_counter()
    with IndexWriter(path, embedder, embed_field=settings.embed_field, index_type=index_type,
                     extractor=extractor) as writer:
        registry = writer.registry()
        known = dict(zip(registry["doc_id"].to_list(), registry["doc_hash"].to_list(), strict=True))
        shard_of = dict(zip(registry["doc_id"].to_list(), registry["shard"].to_list(), strict=True))
        report = UpdateReport(path, writer.manifest)
        seen: set[str] = set()

        def chunks() -> Iterator[list[tuple[Document, str]]]:
            pending: list[tuple[Document, str]] = []
            for doc in iter_documents([Path(p) for p in inputs], report.ingest, outlets=outlets,
                                      strict=settings.strict, skip_bad_rows=settings.skip_bad_rows):
                report.documents_seen += 1
                seen.add(doc.doc_id)
                digest = doc_hash(doc)
                if known.get(doc.doc_id) == digest:
                    report.unchanged += 1
                    continue
                pending.append((doc, digest))
                if len(pending) >= chunk_docs:
                    yield pending
                    pending = []
            if pending:
                yield pending

        with progress(desc=f"indexing {path.name}", unit="doc", quiet=settings.quiet) as bar:
            for result in engine.process(chunks(), settings, embedder):
                ids = result.docs["doc_id"].to_list()
                replaced = [(shard_of[d], d) for d in ids if d in shard_of]
                removed = pl.DataFrame(replaced, schema={"shard": pl.Int64, "doc_id": pl.String}, orient="row")
                writer.commit(result.claims, result.vectors, result.docs, removed)
                report.chunks += 1
                report.changed += len(replaced)
                report.added += len(ids) - len(replaced)
                report.claims_added += len(result.claims)
                report.embedded += result.stats.get("embedded", 0)
                report.from_cache += result.stats.get("from_cache", 0)
                for key in ("claims_s", "embed_s"):
                    report.timings_s[key] = round(report.timings_s.get(key, 0.0) + result.stats.get(key, 0.0), 3)
                shard = writer.manifest["shards"][-1]["id"] if writer.manifest["shards"] else 0
                for d in ids:
                    shard_of[d] = shard
                bar.update(len(ids))
                if on_commit is not None:
                    on_commit(report)
        if report.documents_seen == 0:
            raise InputError(f"no readable articles in {', '.join(str(p) for p in inputs)}")
        if mode == "build":
            gone = [(s, d) for d, s in shard_of.items() if d not in seen]
            if gone:
                writer.commit(removed=pl.DataFrame(gone, schema={"shard": pl.Int64, "doc_id": pl.String},
                                                   orient="row"))
                report.removed = len(gone)
        t_index = time.perf_counter()
        report.manifest = writer.finalize(shard_builder=engine if engine.name != "local" else None)
        report.timings_s["index_s"] = round(time.perf_counter() - t_index, 3)
    report.timings_s["total_s"] = round(time.perf_counter() - start, 3)
    return report


def remove_documents(name: str, doc_ids: list[str], settings: Settings | None = None) -> UpdateReport:
    """Tombstone documents by id; their claims disappear from search and clustering at once."""
    settings = settings or Settings()
    path = index_path(name, settings.index_dir)
    if not doc_ids:
        raise ClaimmatchError("name at least one document: --doc-id ID")
    read_manifest(path)
    with IndexWriter(path, None) as writer:
        registry = writer.registry()
        live = dict(zip(registry["doc_id"].to_list(), registry["shard"].to_list(), strict=True))
        missing = [d for d in doc_ids if d not in live]
        if len(missing) == len(set(doc_ids)):
            raise ClaimmatchError(f"{path}: no document {', '.join(missing[:5])} in this index")
        gone = sorted({(live[d], d) for d in doc_ids if d in live})
        writer.commit(removed=pl.DataFrame(gone, schema={"shard": pl.Int64, "doc_id": pl.String}, orient="row"))
        report = UpdateReport(path, writer.finalize(), removed=len(gone))
    report.ingest.warnings.extend(f"not in the index: {d}" for d in missing)
    return report


def index_info(name: str, settings: Settings | None = None, top_outlets: int = 10) -> dict:
    """What an index holds: counts, outlets, model, index type, state and size on disk."""
    settings = settings or Settings()
    with open_index(name, settings) as snap:
        m, path = snap.manifest, snap.path
        docs = snap.documents()
    by_outlet = (docs.group_by("outlet").agg(pl.len().alias("documents"), pl.col("n_claims").sum().alias("claims"))
                 .sort(["documents", "outlet"], descending=[True, False]).head(top_outlets))
    return {
        "index": str(path), "state": m["state"], "model": m["model"], "dimension": m["dimension"],
        "embed_field": m.get("embed_field"), "index_type": m.get("index_type"),
        "index_type_requested": m.get("index_type_requested"), "nprobe": m.get("nprobe"),
        "documents": m["documents"], "claims": m["count"], "outlets": m.get("outlets", 0),
        "top_outlets": by_outlet.to_dicts(), "rows_stored": m["rows"], "removed_rows": m.get("removed_rows", 0),
        "shards": len(m["shards"]), "size_bytes": disk_size(path), "created": m["created"], "updated": m["updated"],
        "claimmatch_version": m.get("claimmatch_version"), "generation": m["generation_number"],
        "extractor": m.get("extractor"),
    }


def disk_size(path: Path) -> int:
    with contextlib.suppress(FileNotFoundError):
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0


def search_index(name: str, query: str, k: int = 10, settings: Settings | None = None,
                 embedder: Embedder | None = None) -> pl.DataFrame:
    """The ``k`` claims nearest to ``query`` (cosine), best first, with outlet, document and score."""
    settings = settings or Settings()
    if k < 1:
        raise ClaimmatchError("-k must be at least 1")
    if not query.strip():
        raise ClaimmatchError("give a non-empty search text")
    embedder = embedder or _default_embedder(settings)
    with open_index(name, settings, embedder) as snap:
        qvec = embedder.encode([query])
        sims, ids = search(snap.faiss_index, qvec, k)
        keep = ids[0] >= 0
        positions, scores = ids[0][keep], sims[0][keep]
        columns = ["claim_id", "doc_id", "outlet", "title", "text", "speaker"]
        found = snap.claims(columns, positions)
        order = pl.DataFrame({"row": snap.rows[positions], "score": np.round(scores, 4),
                              "rank": np.arange(1, len(positions) + 1)})
    present = [c for c in columns if c in found.columns]
    return order.join(found.select("row", *present), on="row", how="left").sort("rank").select(
        "rank", "score", *present)


class _OnePass:
    """The index for clustering's one neighbour search over all claims, freed when that pass is done.

    At a million claims the index holds ~400 MB that the report stage, which follows inside
    :func:`pipeline.analyze`, needs more.
    """

    def __init__(self, index: LiveIndex) -> None:
        self._index: LiveIndex | None = index
        self.ntotal, self.d = index.ntotal, index.d
        self._queried = 0

    def search(self, queries: np.ndarray, k: int):
        if self._index is None:
            raise RuntimeError("the index was released after its pass over all claims")
        result = self._index.search(queries, k)
        self._queried += len(queries)
        if self._queried >= self.ntotal:
            self._index = None
        return result


def cluster_index(name: str, out_dir: Path | str, settings: Settings | None = None, *,
                  embedder: Embedder | None = None, judge=None):
    """The foundation's cluster outputs (claims, clusters, clusters.md, run.json) for an index.

    Same clustering as ``claimmatch run`` (:func:`pipeline.analyze`), but the vectors stay a float16
    memmap and neighbours come from the stored (possibly approximate) FAISS index.
    """
    from claimmatch.pipeline import CLAIM_OUTPUT_COLUMNS, RunResult, Timer, analyze, make_judge, versions
    from claimmatch.report import commit_outputs, json_writer

    settings = settings or Settings()
    timer = Timer()
    with open_index(name, settings, embedder) as snap:
        with timer.stage("load_index"):
            m, path = snap.manifest, snap.path
            settings = replace(settings, embed_field=m.get("embed_field") or settings.embed_field)
            claims = snap.claims(CLAIM_OUTPUT_COLUMNS[:-1]).drop("row", "shard")
            vectors = snap.vectors()  # every vector row hash-checked first
            index = _OnePass(snap.faiss_index)
            snap.drop_faiss()  # the one pass holds the index, and frees it once all claims were searched
        judge = judge or make_judge(settings, None)
        header = {"documents": claims["doc_id"].n_unique(), "outlets": claims["outlet"].n_unique(),
                  "model": m["model"], "judge": judge.name, "threshold": settings.threshold,
                  "neighbors": settings.neighbors, "embed_field": settings.embed_field}
        writers, out = analyze(claims, vectors, index, settings, judge, timer, header)
    info = {"settings": settings.as_dict(), "index": str(path), "index_type": m.get("index_type"),
            "model": m["model"], "judge": judge.name, "versions": versions(),
            "counts": {"documents": header["documents"], "claims": len(claims), **out["counts"]},
            "timings_s": timer.seconds}
    writers["run.json"] = json_writer(info)
    files = commit_outputs(Path(out_dir), writers)
    return RunResult(Path(out_dir), files, out["claims"], out["clusters"], info)
