"""Compaction: rewrite an index's live rows without tombstones, as one atomic commit.

Removals and replaced documents only tombstone rows, so an index that has seen many of them keeps their
vectors, claims and FAISS entries. Compaction copies the live rows (chunk by chunk, so memory stays one
chunk) into a new vectors file and new claims/docs files, trains and fills a fresh FAISS index on them,
and publishes all of it in one manifest replacement: a reader sees the old index or the compacted one,
never a mix, and a compaction that is killed or fails leaves the old one in place. Rerunning it starts
over from that committed generation (the partial files are debris the next writer removes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.errors import ClaimmatchError
from claimmatch.progress import progress
from claimmatch.store.layout import file_name, index_path
from claimmatch.store.manifest import digest, read_manifest
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

    def as_dict(self) -> dict:
        return {"index": str(self.path), "compacted": self.compacted, "rows_before": self.rows_before,
                "rows_after": self.rows_after, "bytes_before": self.bytes_before, "bytes_after": self.bytes_after,
                "generation": self.manifest["generation_number"]}


def _generation_bytes(m: dict) -> int:
    return int(m["rows"]) * int(m["dimension"]) * 2 + sum(f["size"] for f in m["files"].values())


def compact_index(name: str, settings: Settings | None = None, *, on_shard=None) -> CompactReport:
    """Rewrite index ``name`` without its removed rows; an index with none is left as it is.

    ``on_shard(i)`` runs after each chunk is copied (tests use it to simulate a crash).
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
        first = int(old["generation_number"]) + 1
        m = {**old, "files": {}, "shards": [], "removed": None, "faiss": None, "rows": 0, "faiss_rows": 0,
             "trained_rows": 0, "index_type": None, "nprobe": None, "vectors": file_name("vectors", first)}
        live: dict = {}
        number = first
        with progress(total=len(old["shards"]), desc=f"compacting {path.name}", unit="chunk",
                      quiet=settings.quiet) as bar:
            for i, s in enumerate(old["shards"]):
                docs = (snap.read_parquet(s["docs"]).select(list(DOC_SCHEMA)).cast(DOC_SCHEMA)
                        .join(removed.filter(pl.col("shard") == s["id"]), on="doc_id", how="anti",
                              maintain_order="left"))
                if len(docs):
                    claims = (snap.read_parquet(s["claims"]).join(docs.select("doc_id"), on="doc_id", how="semi",
                                                                  maintain_order="left"))
                    rows = claims["row"].to_numpy().astype(np.int64)
                    data = np.ascontiguousarray(mm[rows] if len(rows) else np.zeros((0, m["dimension"])),
                                                dtype=np.float16).tobytes()
                    start = int(m["rows"])
                    writer._guard(lambda m=m, data=data: writer._append_vectors(m, data), m["vectors"])
                    shard = {"id": number, "claims": file_name("claims", number), "docs": file_name("docs", number),
                             "row_start": start, "rows": len(claims), "vectors_xxh3": digest(data)}
                    claims = claims.with_columns(pl.Series("row", np.arange(start, start + len(claims),
                                                                            dtype=np.int64)))
                    writer._write_parquet(m, shard["claims"], claims)
                    writer._write_parquet(m, shard["docs"], docs)
                    m["shards"].append(shard)
                    m["rows"] = start + len(claims)
                    for doc_id, outlet, n in docs.select("doc_id", "outlet", "n_claims").iter_rows():
                        live[(number, doc_id)] = (outlet, n)
                    number += 1
                bar.update(1)
                if on_shard is not None:
                    on_shard(i)
        if not m["shards"]:
            raise ClaimmatchError(f"{path}: every document was removed; nothing to compact (build it again)")
        m["generation_number"] = number - 1
        m["state"] = "building"
        manifest = writer.finalize(staged=(m, live))
    return CompactReport(path, manifest, old["rows"], manifest["rows"], _generation_bytes(old),
                         _generation_bytes(manifest), True)
