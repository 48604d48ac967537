"""Shared helpers for the benchmark and evaluation scripts: machine facts, peak memory, test vectors."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def cpu_name() -> str:
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    return next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")),
                platform.processor() or "unknown CPU")


def machine() -> dict:
    cpu = cpu_name()
    mem = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal")), 0)
    import faiss
    import polars
    import sentence_transformers
    import torch

    return {"date": datetime.now(UTC).replace(microsecond=0).isoformat(), "cpu": cpu, "cores": os.cpu_count(),
            "ram_mib": mem, "python": platform.python_version(), "numpy": np.__version__,
            "faiss": faiss.__version__, "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "sentence_transformers": sentence_transformers.__version__, "polars": polars.__version__}


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def prf(pred: np.ndarray, gold: np.ndarray) -> dict:
    """Precision, recall and F1 of boolean predictions against boolean gold labels."""
    tp = int((pred & gold).sum())
    fp = int((pred & ~gold).sum())
    fn = int((~pred & gold).sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def emit(data: dict, path: Path | None) -> None:
    """Print the result as JSON, and write it to ``path`` too when one is given."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    print(text)
    if path:
        path.write_text(text + "\n", encoding="utf-8")


def save(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(data, indent=2))


def real_vectors(index_dir: Path) -> np.ndarray:
    """Live MiniLM claim vectors of an index built by bench_index_build.py (float16 memmap)."""
    from claimmatch.store import open_index

    with open_index(str(index_dir)) as snapshot:
        return snapshot.vectors()


def synthetic_blocks(seed_vectors: np.ndarray, n: int, block: int = 50_000, dup_fraction: float = 0.25,
                     seed: int = 0) -> Iterator[np.ndarray]:
    """n unit vectors shaped like a news archive, built from real claim vectors, block by block.

    Novel claims mix two real claims plus noise (cosine ≈ 0.78 to the nearer one, ≈ 0.55 between two
    derived from one real claim); ``dup_fraction`` of rows are rewrites of a novel claim of their block at
    cosine ≈ 0.80–0.98 (the near-duplicates clustering must find). Deterministic for a given seed.
    """
    rng = np.random.default_rng(seed)
    dim = seed_vectors.shape[1]
    real = len(seed_vectors)
    done = 0
    while done < n:
        size = min(block, n - done)
        n_dup = int(size * dup_fraction)
        n_new = size - n_dup
        a = np.asarray(seed_vectors[np.sort(rng.integers(0, real, n_new))], dtype=np.float32)
        b = np.asarray(seed_vectors[np.sort(rng.integers(0, real, n_new))], dtype=np.float32)
        new = a + 0.5 * b + 0.7 * rng.standard_normal((n_new, dim), dtype=np.float32) / np.sqrt(dim)
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        src = new[rng.integers(0, n_new, n_dup)]
        noise = rng.uniform(0.2, 0.75, (n_dup, 1)).astype(np.float32)
        dup = src + noise * rng.standard_normal((n_dup, dim), dtype=np.float32) / np.sqrt(dim)
        dup /= np.linalg.norm(dup, axis=1, keepdims=True)
        out = np.concatenate([new, dup])[rng.permutation(size)]
        yield out.astype(np.float16).astype(np.float32)
        done += size
