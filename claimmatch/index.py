"""FAISS index of claim vectors stored as ``indexes/<name>/``, written crash-safely.

Layout: ``manifest.json`` names the current generation folder (``gen-000001/``) holding
``index.faiss``, ``claims.parquet`` and ``embeddings.f16.npy``. A write builds a new generation, then
atomically replaces the manifest, then deletes the old generation: a kill at any moment leaves the last
committed state loadable.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import polars as pl

from claimmatch import __version__
from claimmatch.embed import Embedder
from claimmatch.errors import ClaimmatchError
from claimmatch.fileio import atomic_write, atomic_write_json

MANIFEST = "manifest.json"
METRIC = "inner_product"


def index_path(name: str, index_dir: str | Path = "indexes") -> Path:
    """A bare name lives under ``index_dir``; anything with a path separator is used as given."""
    if not name or name in {".", ".."}:
        raise ClaimmatchError(f"invalid index name {name!r}")
    return Path(name) if ("/" in name or "\\" in name) else Path(index_dir) / name


def build_faiss(vectors: np.ndarray, index_type: str = "flat") -> faiss.Index:
    """Exact inner-product search over normalized vectors (cosine similarity)."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    if index_type != "flat":
        raise ClaimmatchError(f"unknown index type {index_type!r}; use 'flat'")
    index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


@dataclass
class StoredIndex:
    path: Path
    manifest: dict
    claims: pl.DataFrame
    vectors: np.ndarray  # float32, row i ↔ claims row i
    faiss_index: faiss.Index


def check_compatible(manifest: dict, embedder: Embedder, path: Path) -> None:
    if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dim:
        raise ClaimmatchError(
            f"{path}: index was built with model {manifest.get('model')} ({manifest.get('dimension')} dims), "
            f"not {embedder.name} ({embedder.dim} dims); rebuild it or use another --index name")


def save_index(path: Path, claims: pl.DataFrame, vectors: np.ndarray, embedder: Embedder,
               index_type: str = "flat", extra: dict | None = None) -> dict:
    """Write a new generation and commit it by replacing the manifest."""
    if len(claims) != len(vectors):
        raise ValueError("claims and vectors differ in length")
    path.mkdir(parents=True, exist_ok=True)
    old = read_manifest(path) if (path / MANIFEST).exists() else None
    number = (old or {}).get("generation_number", 0) + 1
    gen = path / f"gen-{number:06d}"
    if gen.exists():  # debris of a write that died before committing
        shutil.rmtree(gen)
    gen.mkdir()
    index = build_faiss(vectors, index_type)
    atomic_write(gen / "index.faiss", lambda tmp: faiss.write_index(index, str(tmp)))
    atomic_write(gen / "claims.parquet", lambda tmp: claims.write_parquet(tmp))
    atomic_write(gen / "embeddings.f16.npy", lambda tmp: _save_npy(tmp, vectors.astype(np.float16)))
    manifest = {
        "format": 1,
        "model": embedder.name,
        "model_weights_sha256": getattr(embedder, "weights_sha256", None),
        "dimension": int(embedder.dim),
        "metric": METRIC,
        "index_type": index_type,
        "count": len(claims),
        "documents": claims["doc_id"].n_unique() if len(claims) else 0,
        "claimmatch_version": __version__,
        "created": (old or {}).get("created") or _now(),
        "updated": _now(),
        "generation": gen.name,
        "generation_number": number,
        **(extra or {}),
    }
    atomic_write_json(path / MANIFEST, manifest)
    for stale in path.glob("gen-*"):
        if stale.is_dir() and stale.name != gen.name:
            shutil.rmtree(stale, ignore_errors=True)
    return manifest


def _save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as fh:  # a file handle: np.save would append ".npy" to a temp name
        np.save(fh, array, allow_pickle=False)


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def read_manifest(path: Path) -> dict:
    mpath = path / MANIFEST
    if not mpath.exists():
        raise ClaimmatchError(f"{path}: no index here (no {MANIFEST}); build one with 'claimmatch index build'")
    try:
        return json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ClaimmatchError(f"{mpath}: corrupt manifest; rebuild the index") from None


def load_index(path: Path, embedder: Embedder | None = None) -> StoredIndex:
    manifest = read_manifest(path)
    if embedder is not None:
        check_compatible(manifest, embedder, path)
    gen = path / manifest["generation"]
    try:
        claims = pl.read_parquet(gen / "claims.parquet")
        vectors = np.load(gen / "embeddings.f16.npy", allow_pickle=False).astype(np.float32)
        index = faiss.read_index(str(gen / "index.faiss"))
    except Exception as exc:  # missing or truncated files: say which index and what to do
        raise ClaimmatchError(f"{gen}: index files unreadable ({exc}); rebuild the index") from None
    return StoredIndex(path, manifest, claims, vectors, index)


def search(index: faiss.Index, queries: np.ndarray, k: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours in batches, so memory stays bounded for large query sets."""
    k = min(k, index.ntotal)
    sims = np.zeros((len(queries), k), dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    if k == 0:
        return sims, ids
    for start in range(0, len(queries), batch):
        q = np.ascontiguousarray(queries[start:start + batch], dtype=np.float32)
        sims[start:start + len(q)], ids[start:start + len(q)] = index.search(q, k)
    return sims, ids
