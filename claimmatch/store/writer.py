"""Writing an index: chunks committed one by one, each commit one atomic manifest replacement.

A commit appends and fsyncs vector rows, writes new files under fresh names (each hashed as written),
then atomically replaces the manifest. Rows past the manifest's ``rows`` and unreferenced files are debris
of a killed or failed writer: readers ignore them and the next writer removes them, so a kill or a write
error (disk full, I/O error) at any moment leaves the previous generation loadable.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
import polars as pl

from claimmatch import __version__
from claimmatch.embed import Embedder
from claimmatch.errors import ClaimmatchError
from claimmatch.store.faiss_build import (
    RETRAIN_GROWTH,
    add_rows,
    as_f32,
    effective_type,
    empty_faiss,
    merge_shards,
    training_size,
)
from claimmatch.store.files import fsync_dir, write_hashed
from claimmatch.store.layout import FORMAT, INDEX_TYPES, MANIFEST, METRIC, WriteFailed, file_name
from claimmatch.store.lock import IndexLock, clean
from claimmatch.store.manifest import (
    check_compatible,
    digest,
    generation_files,
    now,
    read_manifest,
    seal,
    vectors_size,
)
from claimmatch.store.reader import DOC_SCHEMA, IndexSnapshot


def doc_rows(claims: pl.DataFrame) -> pl.DataFrame:
    """Documents of a claims frame (for indexes written from claims alone, without content hashes)."""
    docs = claims.group_by("doc_id", maintain_order=True).agg(
        pl.col("outlet").first() if "outlet" in claims.columns else pl.lit(None, pl.String).alias("outlet"),
        pl.len().cast(pl.Int64).alias("n_claims"))
    return docs.with_columns(pl.lit(None, pl.String).alias("doc_hash"))


def new_manifest(embedder: Embedder, embed_field: str, index_type: str, extractor: dict | None, number: int,
                 created: str | None) -> dict:
    """An empty generation ``number - 1`` whose files will be numbered from ``number``."""
    return {
        "format": FORMAT, "model": embedder.name, "model_weights_sha256": getattr(embedder, "weights_sha256", None),
        "dimension": int(embedder.dim), "metric": METRIC, "embed_field": embed_field, "extractor": extractor,
        "index_type_requested": index_type, "index_type": None, "nprobe": None,
        "count": 0, "documents": 0, "outlets": 0, "rows": 0, "removed_rows": 0, "faiss_rows": 0, "trained_rows": 0,
        "vectors": file_name("vectors", number), "shards": [], "removed": None, "faiss": None, "files": {},
        "state": "empty", "claimmatch_version": __version__, "created": created or now(), "updated": now(),
        "generation_number": number - 1,
    }


class IndexWriter:
    """Appends chunks of (claims, vectors, documents) to an index, committing after each one.

    Use as a context manager: entering takes the lock, checks model and extractor, and drops debris.
    ``extractor`` (the claim extractor's name/version/weights) is recorded in a new index; extending an
    index whose extractor differs is refused, since its claims would not be comparable.
    """

    def __init__(self, path: Path, embedder: Embedder | None, *, embed_field: str = "text",
                 index_type: str = "auto", replace: bool = False, extra: dict | None = None,
                 extractor: dict | None = None) -> None:
        if index_type not in INDEX_TYPES:
            raise ClaimmatchError(f"unknown index type {index_type!r}; use one of {', '.join(INDEX_TYPES)}")
        self.path = path
        self.embedder = embedder
        self.embed_field = embed_field
        self.index_type = index_type
        self.replace = replace
        self.extra = extra or {}
        self.extractor = extractor
        self.lock = IndexLock(path)
        self.manifest: dict = {}
        self._step = ""  # the file being written, for a one-line error

    # lifecycle
    def __enter__(self) -> IndexWriter:
        self.lock.__enter__()
        try:
            self._open()
        except BaseException:
            self.lock.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.lock.__exit__()

    def _open(self) -> None:
        exists = (self.path / MANIFEST).exists()
        try:
            old = read_manifest(self.path) if exists else None
        except ClaimmatchError:
            if not self.replace:
                raise
            old = None  # replacing an index of an older format (or a damaged one): start afresh
        if old is None and self.embedder is None:
            raise ClaimmatchError(f"{self.path}: no index here (no {MANIFEST}); build one with 'claimmatch index build'")
        if old is not None and self.embedder is None:  # removals and compaction need no model
            self.embed_field = old.get("embed_field", self.embed_field)
        if old is not None and not self.replace:
            adding = self.embedder is not None
            check_compatible(old, self.path, self.embedder, self.extractor, strict_extractor=adding)
            if old.get("embed_field", self.embed_field) != self.embed_field:
                raise ClaimmatchError(f"{self.path}: index embeds claim field '{old.get('embed_field')}', not "
                                      f"'{self.embed_field}'; use the same setting or another --index name")
            self.manifest = old
        else:
            number = (old or {}).get("generation_number", 0) + 1
            self.manifest = new_manifest(self.embedder, self.embed_field, self.index_type, self.extractor, number,
                                         (old or {}).get("created"))
        if self.index_type != "auto":
            self.manifest["index_type_requested"] = self.index_type
        self.manifest.update(self.extra)
        self.guard(lambda: clean(self.path, set(generation_files(old)) | set(generation_files(self.manifest))),
                    "removing debris")
        vec = self.path / self.manifest["vectors"]
        self.guard(lambda: self._truncate(vec), vec.name)
        with self.snapshot() as snap:
            self._load_state(snap)

    def _truncate(self, vec: Path) -> None:
        """Drop rows a killed writer appended but never committed (readers never read past their commit)."""
        with open(vec, "r+b" if vec.exists() else "w+b") as fh:
            fh.truncate(vectors_size(self.manifest))

    def snapshot(self) -> IndexSnapshot:
        """The generation this writer last committed (or opened), as a reader sees it; no pin needed."""
        return IndexSnapshot(self.path, self.manifest, None)

    def _load_state(self, snap: IndexSnapshot) -> None:
        """Live documents held in memory (one small tuple each), so a commit costs O(chunk), not O(index)."""
        self._registry = snap.documents()
        self._removed = snap.removed()
        self._live = {(s, d): (o, n) for s, d, o, n in zip(
            self._registry["shard"].to_list(), self._registry["doc_id"].to_list(),
            self._registry["outlet"].to_list(), self._registry["n_claims"].to_list(), strict=True)}

    def registry(self) -> pl.DataFrame:
        """Live documents when the writer opened: doc_id, doc_hash, outlet, n_claims, shard."""
        return self._registry

    def guard(self, action: Callable[[], object], step: str):
        """Run one write step; an OS error (disk full, I/O error) becomes one line, nothing committed."""
        try:
            return action()
        except OSError as exc:
            raise WriteFailed(
                f"{self.path}: could not write {step}: {exc.strerror or exc}; nothing was committed, generation "
                f"{self.manifest.get('generation_number', 0)} is still the index (free space or fix the disk, then "
                "rerun)") from None

    def _write(self, m: dict, name: str, write: Callable[[Path], None]) -> None:
        m["files"] = {**m["files"], name: self.guard(lambda: write_hashed(self.path / name, write), name)}

    def write_parquet(self, m: dict, name: str, frame: pl.DataFrame) -> None:
        buf = io.BytesIO()
        frame.write_parquet(buf)
        data = buf.getvalue()
        self._write(m, name, lambda tmp: tmp.write_bytes(data))

    # commits
    def commit(self, claims: pl.DataFrame | None = None, vectors: np.ndarray | None = None,
               docs: pl.DataFrame | None = None, removed: pl.DataFrame | None = None, state: str | None = None) -> None:
        """Append one chunk and/or tombstone documents (``removed``: shard, doc_id) in one atomic commit."""
        m = {**self.manifest, "files": dict(self.manifest["files"])}
        number = m["generation_number"] + 1
        live = dict(self._live)
        if claims is not None and (len(claims) or (docs is not None and len(docs))):
            vectors = np.asarray(vectors if vectors is not None else np.zeros((0, m["dimension"])))
            if len(claims) != len(vectors):
                raise ValueError("claims and vectors differ in length")
            if len(vectors) and vectors.shape[1] != m["dimension"]:
                raise ClaimmatchError(f"{self.path}: vectors have {vectors.shape[1]} dims, index has {m['dimension']}")
            start = int(m["rows"])
            data = np.ascontiguousarray(vectors, dtype=np.float16).tobytes()
            self.guard(lambda: self.append_vectors(m, data), m["vectors"])
            shard = {"id": number, "claims": file_name("claims", number), "docs": file_name("docs", number),
                     "row_start": start, "rows": len(claims), "vectors_xxh3": digest(data)}
            framed = claims.with_columns(pl.Series("row", np.arange(start, start + len(claims), dtype=np.int64)))
            self.write_parquet(m, shard["claims"], framed)
            docs = docs if docs is not None else doc_rows(claims)
            docs = docs.select(list(DOC_SCHEMA)).cast(DOC_SCHEMA)
            self.write_parquet(m, shard["docs"], docs)
            m["shards"] = [*m["shards"], shard]
            m["rows"] = start + len(claims)
            if len(claims):
                m["state"] = "building"  # FAISS lags behind until finalize (readers extend it in memory)
            for doc_id, outlet, n in zip(docs["doc_id"].to_list(), docs["outlet"].to_list(),
                                         docs["n_claims"].to_list(), strict=True):
                live[(number, doc_id)] = (outlet, n)
        table = self._removed
        if removed is not None and len(removed):
            removed = removed.select(pl.col("shard").cast(pl.Int64), pl.col("doc_id").cast(pl.String))
            table = pl.concat([self._removed, removed]).unique(maintain_order=True)
            if m.get("removed"):
                m["files"].pop(m["removed"], None)
            m["removed"] = file_name("removed", number)
            self.write_parquet(m, m["removed"], table)
            for key in zip(removed["shard"].to_list(), removed["doc_id"].to_list(), strict=True):
                live.pop(key, None)
        if state:
            m["state"] = state
        self._publish(m, number, live)
        self._removed = table

    def append_vectors(self, m: dict, data: bytes) -> None:
        path = self.path / m["vectors"]
        with open(path, "r+b" if path.exists() else "w+b") as fh:
            fh.seek(vectors_size(m))
            fh.write(data)
            fh.truncate()
            fh.flush()
            os.fsync(fh.fileno())

    def _publish(self, m: dict, number: int, live: dict | None = None) -> None:
        live = self._live if live is None else live
        outlets = Counter(o for o, _ in live.values())
        m["documents"] = len(live)
        m["count"] = int(sum(n for _, n in live.values()))
        m["outlets"] = len(outlets)
        m["removed_rows"] = int(m["rows"]) - m["count"]
        m["generation_number"] = number
        m["updated"] = now()
        if m["state"] == "empty" and m["rows"]:
            m["state"] = "building"
        text = json.dumps(seal(m), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        self.guard(lambda: write_hashed(self.path / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8")),
                    MANIFEST)
        fsync_dir(self.path)
        self.manifest, self._live = m, live
        with contextlib.suppress(OSError):  # committed; cleanup is redone by the next writer or reader
            clean(self.path, set(generation_files(m)))

    def write_faiss(self, m: dict, index: faiss.Index, kind: str, number: int) -> None:
        """Write ``index`` as generation ``number``'s FAISS file and record it in ``m`` (not yet published)."""
        if m.get("faiss"):
            m["files"].pop(m["faiss"], None)
        m["faiss"] = file_name("faiss", number)
        self._write(m, m["faiss"], lambda tmp: faiss.write_index(index, str(tmp)))
        m.update({"faiss_rows": int(m["rows"]), "index_type": kind, "state": "ready",
                  "nprobe": int(faiss.downcast_index(index).nprobe) if kind.startswith("ivf") else None})

    def finalize(self, shard_builder=None, staged: tuple[dict, dict] | None = None) -> dict:
        """Bring the FAISS file up to date with the committed rows and mark the index ready.

        The type follows the live size (unless forced); an IVF index grown far past the data it was trained
        on, or of the wrong type, is rebuilt from the memmap, otherwise new rows are appended to it.
        ``staged``: a written but unpublished (manifest, live documents), e.g. a compaction, which gets a
        fresh FAISS index and is published with it in one commit.
        """
        m = {**(staged[0] if staged else self.manifest)}
        m["files"] = dict(m["files"])
        rows = int(m["rows"])
        live = int(m["count"]) if not staged else sum(n for _, n in staged[1].values())
        kind = effective_type(live, m.get("index_type_requested", "auto"))
        up_to_date = m.get("faiss") and m.get("faiss_rows") == rows and m.get("index_type") == kind
        if up_to_date and m.get("state") == "ready" and not staged:
            return m
        snap = IndexSnapshot(self.path, m, None)
        vectors = snap.memmap()
        index = None
        if m.get("faiss") and m.get("index_type") == kind and not staged:
            grown = kind.startswith("ivf") and rows > RETRAIN_GROWTH * max(1, int(m.get("trained_rows") or 0))
            if not grown:
                index = snap.read_faiss()
        if index is None:
            train = None
            if kind.startswith("ivf"):
                live_ids = snap.rows
                picks = np.linspace(0, len(live_ids) - 1, min(len(live_ids), training_size(kind, live)))
                train = as_f32(vectors[live_ids[picks.astype(np.int64)]])
                m["trained_rows"] = rows
            index = empty_faiss(int(m["dimension"]), kind, live, train)
            if shard_builder is not None and kind != "hnsw" and rows > shard_builder.shard_rows:
                merge_shards(index, vectors, rows, shard_builder)
            else:
                add_rows(index, vectors, 0, rows)
        self.write_faiss(m, index, kind, m["generation_number"] + 1)
        self._publish(m, m["generation_number"] + 1, staged[1] if staged else None)
        return self.manifest


def save_index(path: Path, claims: pl.DataFrame, vectors: np.ndarray, embedder: Embedder,
               index_type: str = "auto", extra: dict | None = None, embed_field: str = "text",
               extractor: dict | None = None) -> dict:
    """Replace whatever ``path`` holds with these claims (one chunk), committed atomically."""
    if len(claims) != len(vectors):
        raise ValueError("claims and vectors differ in length")
    with IndexWriter(path, embedder, embed_field=embed_field, index_type=index_type, replace=True,
                     extra=extra, extractor=extractor) as writer:
        writer.commit(claims, vectors)
        return writer.finalize()


__all__ = ["IndexWriter", "doc_rows", "save_index"]
