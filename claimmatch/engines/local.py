"""In-process engine: chunks are processed one after another in this process (no Ray needed)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import faiss
import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.embed import Embedder
from claimmatch.engines import ChunkResult
from claimmatch.prepare import prepare
from claimmatch.records import Document
from claimmatch.store.faiss_build import add_rows


def process_chunk(chunk: list[tuple[Document, str]], settings: Settings, embedder: Embedder) -> ChunkResult:
    """Clean, extract claims and embed one chunk (claimmatch/prepare.py, the step ``run`` uses too).

    Cleaning sees only this chunk, so boilerplate detection across one outlet's articles works within
    a chunk: the price of memory that does not grow with the corpus.
    """
    docs = [doc for doc, _ in chunk]
    prepared = prepare(docs, settings, embedder, quiet=True)
    claims, vectors, stats = prepared.claims, prepared.vectors, prepared.stats
    counts = claims.group_by("doc_id").len() if len(claims) else pl.DataFrame(
        schema={"doc_id": pl.String, "len": pl.UInt32})
    per_doc = dict(zip(counts["doc_id"].to_list(), counts["len"].to_list(), strict=True))
    doc_frame = pl.DataFrame({
        "doc_id": [d.doc_id for d in docs], "doc_hash": [h for _, h in chunk], "outlet": [d.outlet for d in docs],
        "n_claims": [int(per_doc.get(d.doc_id, 0)) for d in docs]},
        schema={"doc_id": pl.String, "doc_hash": pl.String, "outlet": pl.String, "n_claims": pl.Int64})
    stats["claims_s"] = stats["clean_s"] + stats["claims_s"]  # the index report counts cleaning with claims
    return ChunkResult(claims, vectors, doc_frame, stats)


def build_shard_index(vectors: np.ndarray, template: bytes) -> bytes:
    """Add one block of vectors to a copy of an empty (trained) index; returns it serialized."""
    index = faiss.deserialize_index(np.frombuffer(template, dtype=np.uint8))
    add_rows(index, vectors, 0, len(vectors))
    return faiss.serialize_index(index).tobytes()


class LocalEngine:
    name = "local"

    def process(self, chunks: Iterable[list[tuple[Document, str]]], settings: Settings,
                embedder: Embedder) -> Iterator[ChunkResult]:
        for chunk in chunks:
            yield process_chunk(chunk, settings, embedder)

    def build_shard_indexes(self, blocks: Iterable[np.ndarray], template: bytes) -> Iterator[bytes]:
        for block in blocks:
            yield build_shard_index(block, template)

    def close(self) -> None:
        pass
