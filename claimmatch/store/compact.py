"""Compaction: rewrite an index's live rows without tombstones, as one atomic commit, resumably.

Removals and replaced documents only tombstone rows, so an index that has seen many of them keeps their
vectors, claims and FAISS entries. Compaction copies the live rows chunk by chunk (memory stays one chunk)
into a new vectors file and new claims/docs files, trains and fills a fresh FAISS index on them, and
publishes all of it in one manifest replacement: a reader sees the old index or the compacted one, never a
mix, and a compaction that is killed or fails leaves the old one in place.

Like a build, it resumes: after each copied chunk, ``compact.json`` records the chunks done (with their
hashes) for the generation being compacted. A rerun on the same generation checks those files against
their hashes and continues with the next chunk; if the index changed meanwhile, it starts over.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.errors import ClaimmatchError
from claimmatch.fileio import atomic_write_json
from claimmatch.progress import progress
from claimmatch.store.files import hash_file
from claimmatch.store.layout import JOURNAL, VECTOR_ITEMSIZE, file_name, index_path
from claimmatch.store.manifest import CHECKSUM, digest, read_manifest, vectors_size
from claimmatch.store.reader import DOC_SCHEMA
from claimmatch.store.writer import IndexWriter


@dataclass
class CompactReport:
    path: Path
    manifest: dict
    rows_before: int
    rows_after: int
    bytes_before: int
    bytes_after: int
    compacted: bool
    resumed_at_chunk: int = 0  # chunks of the old index already copied by an interrupted run

    def as_dict(self) -> dict:
        return {"index": str(self.path), "compacted": self.compacted, "rows_before": self.rows_before,
                "rows_after": self.rows_after, "bytes_before": self.bytes_before, "bytes_after": self.bytes_after,
                "resumed_at_chunk": self.resumed_at_chunk, "generation": self.manifest["generation_number"]}


def _generation_bytes(m: dict) -> int:
    return vectors_size(m) + sum(f["size"] for f in m["files"].values())


def _resume(path: Path, old: dict) -> tuple[dict, dict, int, int] | None:
    """(manifest so far, live documents, next old chunk, next number) of an interrupted compaction, if sound."""
    try:
        journal = json.loads((path / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if journal.get("from_checksum") != old[CHECKSUM]:
        return None
    m = journal["manifest"]
    dim = int(m["dimension"])
    try:
        for name, meta in m["files"].items():
            if hash_file(path / name) != meta["xxh3"]:
                return None
        vec = path / m["vectors"]
        if m["rows"] and vec.stat().st_size < vectors_size(m):
            return None
        for s in m["shards"]:
            if s["rows"] and hash_file(vec, s["row_start"] * dim * VECTOR_ITEMSIZE,
                                       s["rows"] * dim * VECTOR_ITEMSIZE) != s["vectors_xxh3"]:
                return None
        with open(vec, "r+b" if vec.exists() else "w+b") as fh:  # rows of a chunk that was not finished
            fh.truncate(vectors_size(m))
    except OSError:
        return None
    live = {(int(s), d): (o, int(n)) for s, d, o, n in journal["live"]}
    return m, live, int(journal["next_chunk"]), int(journal["next_number"])


def compact_index(name: str, settings: Settings | None = None, *, on_shard=None) -> CompactReport:
    """Rewrite index ``name`` without its removed rows; an index with none is left as it is.

    ``on_shard(i)`` runs after old chunk ``i`` is copied and recorded (tests use it to simulate a crash).
    """
    settings = settings or Settings()
    path = index_path(name, settings.index_dir)
    read_manifest(path)
    with IndexWriter(path, None) as writer:
        old = writer.manifest
        if not old.get("removed") and old.get("state") == "ready":
            return CompactReport(path, old, old["rows"], old["rows"], _generation_bytes(old),
                                 _generation_bytes(old), False)
        snap = writer.snapshot()
        snap.check_vectors()  # never copy damaged rows into a generation that would look sound
        mm = snap.memmap()
        removed = snap.removed()
        resumed = _resume(path, old)
        if resumed is not None:
            m, live, start_chunk, number = resumed
        else:
            first = int(old["generation_number"]) + 1
            m = {**old, "files": {}, "shards": [], "removed": None, "faiss": None, "rows": 0, "faiss_rows": 0,
                 "trained_rows": 0, "index_type": None, "nprobe": None, "vectors": file_name("vectors", first)}
            live, start_chunk, number = {}, 0, first
        with progress(total=len(old["shards"]), desc=f"compacting {path.name}", unit="chunk",
                      quiet=settings.quiet) as bar:
            bar.update(start_chunk)
            for i in range(start_chunk, len(old["shards"])):
                s = old["shards"][i]
                docs = (snap.read_parquet(s["docs"]).select(list(DOC_SCHEMA)).cast(DOC_SCHEMA)
                        .join(removed.filter(pl.col("shard") == s["id"]), on="doc_id", how="anti",
                              maintain_order="left"))
                if len(docs):
                    number = _copy_chunk(writer, snap, mm, s, docs, m, live, number)
                writer.guard(lambda i=i, n=number: atomic_write_json(path / JOURNAL, {
                    "from_checksum": old[CHECKSUM], "manifest": m, "next_chunk": i + 1, "next_number": n,
                    "live": [[sh, d, o, c] for (sh, d), (o, c) in live.items()]}), JOURNAL)
                bar.update(1)
                if on_shard is not None:
                    on_shard(i)
        if not m["shards"]:
            raise ClaimmatchError(f"{path}: every document was removed; nothing to compact (build it again)")
        m["generation_number"] = number - 1
        m["state"] = "building"
        manifest = writer.finalize(staged=(m, live))  # publishes; the journal no longer matches and is cleaned
    return CompactReport(path, manifest, old["rows"], manifest["rows"], _generation_bytes(old),
                         _generation_bytes(manifest), True, start_chunk)


def _copy_chunk(writer: IndexWriter, snap, mm: np.ndarray, s: dict, docs: pl.DataFrame, m: dict, live: dict,
                number: int) -> int:
    """Copy the live rows of old chunk ``s`` as new chunk ``number`` into ``m``; returns the next number."""
    claims = snap.read_parquet(s["claims"]).join(docs.select("doc_id"), on="doc_id", how="semi", maintain_order="left")
    rows = claims["row"].to_numpy().astype(np.int64)
    block = mm[rows] if len(rows) else np.zeros((0, int(m["dimension"])))
    data = np.ascontiguousarray(block, dtype=np.float16).tobytes()
    start = int(m["rows"])
    writer.guard(lambda: writer.append_vectors(m, data), m["vectors"])
    shard = {"id": number, "claims": file_name("claims", number), "docs": file_name("docs", number),
             "row_start": start, "rows": len(claims), "vectors_xxh3": digest(data)}
    claims = claims.with_columns(pl.Series("row", np.arange(start, start + len(claims), dtype=np.int64)))
    writer.write_parquet(m, shard["claims"], claims)
    writer.write_parquet(m, shard["docs"], docs)
    m["shards"].append(shard)
    m["rows"] = start + len(claims)
    for doc_id, outlet, n in docs.select("doc_id", "outlet", "n_claims").iter_rows():
        live[(number, doc_id)] = (outlet, n)
    return number + 1
