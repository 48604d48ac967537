"""Execution engines for index builds: in-process (default) or Ray tasks across machines.

NLI pair scoring has its own engines beside these (:mod:`claimmatch.engines.pairs`).

An engine turns a stream of document chunks into a stream of processed chunks (claims + vectors), in
input order, so the writer can commit them one by one whatever ran them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.embed import Embedder
from claimmatch.errors import ClaimmatchError
from claimmatch.records import Document

ENGINES = ("local", "ray")


@dataclass
class ChunkResult:
    """One chunk of documents turned into claims, their vectors and the per-document summary."""

    claims: pl.DataFrame
    vectors: np.ndarray  # float32 rounded through float16, row i ↔ claims row i
    docs: pl.DataFrame  # doc_id, doc_hash, outlet, n_claims (documents without claims included)
    stats: dict = field(default_factory=dict)  # embedded, from_cache, timings


class Engine(Protocol):
    name: str

    def process(self, chunks: Iterable[list[tuple[Document, str]]], settings: Settings,
                embedder: Embedder) -> Iterator[ChunkResult]: ...

    def build_shard_indexes(self, blocks: Iterable[np.ndarray], template: bytes) -> Iterator[bytes]: ...

    def close(self) -> None: ...


def get_engine(name: str = "local", address: str | None = None, **options) -> Engine:
    """The named engine; ``ray`` connects to ``address`` (else ``RAY_ADDRESS``, else a local Ray)."""
    if name == "local":
        from claimmatch.engines.local import LocalEngine

        return LocalEngine()
    if name == "ray":
        from claimmatch.engines.ray_engine import RayEngine

        return RayEngine(address, **options)
    raise ClaimmatchError(f"unknown engine {name!r}; use one of {', '.join(ENGINES)}")
