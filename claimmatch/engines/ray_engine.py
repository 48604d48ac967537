"""Ray engine: chunk processing (clean → claims → embed) and shard index builds run as Ray tasks.

The driver keeps the index: it submits a bounded window of tasks, takes results back in input order and
commits them one by one, so the index is identical to the in-process engine's and resumes the same way.
Workers load the embedding model once per worker process and keep it for later tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from claimmatch.config import Settings
from claimmatch.embed import Embedder, MiniLMEmbedder
from claimmatch.engines import ChunkResult
from claimmatch.engines.raycluster import cluster_cpus, connect, disconnect, ordered
from claimmatch.errors import ClaimmatchError
from claimmatch.records import Document

_WORKER_EMBEDDERS: dict[tuple, Embedder] = {}


def _worker_embedder(spec: Embedder | None, settings: Settings) -> Embedder:
    """The shipped model is built on the worker (its files are local there); other embedders travel pickled."""
    if spec is not None:
        return spec
    key = ("minilm", settings.batch_size)
    if key not in _WORKER_EMBEDDERS:
        _WORKER_EMBEDDERS[key] = MiniLMEmbedder(batch_size=settings.batch_size)
    return _WORKER_EMBEDDERS[key]


def _process(chunk: list[tuple[Document, str]], settings: Settings, spec: Embedder | None) -> tuple[str, ChunkResult]:
    from claimmatch.engines.local import process_chunk

    embedder = _worker_embedder(spec, settings)
    return embedder.name, process_chunk(chunk, settings, embedder)


def _shard(vectors: np.ndarray, template: bytes) -> bytes:
    from claimmatch.engines.local import build_shard_index

    return build_shard_index(vectors, template)


class RayEngine:
    name = "ray"

    def __init__(self, address: str | None = None, max_in_flight: int | None = None, shard_rows: int = 65_536,
                 init_options: dict | None = None) -> None:
        self.ray, self._owns = connect(address, init_options)
        ray = self.ray
        self.max_in_flight = max_in_flight or max(2, 2 * cluster_cpus(ray))
        self.shard_rows = shard_rows
        self._process = ray.remote(num_cpus=1)(_process)
        self._shard = ray.remote(num_cpus=1)(_shard)

    def _ordered(self, submit: Callable, items: Iterable) -> Iterator:
        return ordered(self.ray.get, submit, items, self.max_in_flight)

    def process(self, chunks: Iterable[list[tuple[Document, str]]], settings: Settings,
                embedder: Embedder) -> Iterator[ChunkResult]:
        spec = None if isinstance(embedder, MiniLMEmbedder) else embedder
        settings_ref = self.ray.put(settings)
        spec_ref = self.ray.put(spec)
        for name, result in self._ordered(lambda chunk: self._process.remote(chunk, settings_ref, spec_ref), chunks):
            if name != embedder.name:
                raise ClaimmatchError(f"a Ray worker embeds with {name}, the driver with {embedder.name}; install the "
                                      "same claimmatch version on every machine")
            yield result

    def build_shard_indexes(self, blocks: Iterable[np.ndarray], template: bytes) -> Iterator[bytes]:
        template_ref = self.ray.put(template)
        yield from self._ordered(lambda block: self._shard.remote(block, template_ref), blocks)

    def close(self) -> None:
        disconnect(self.ray, self._owns)
