"""Machine facts, peak memory and the JSON writer shared by every evaluation and benchmark."""

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


def log(msg: str) -> None:
    """Progress for a person watching: stderr, flushed, so stdout stays the machine-readable result."""
    print(msg, file=sys.stderr, flush=True)


def emit(data: dict, path: Path | None = None) -> None:
    """Print the result as JSON and, when ``path`` is given, write it there (temp file, then rename)."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    print(text)
    if path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text + "\n", encoding="utf-8")
        os.replace(tmp, path)


def replace_section(path: Path, section: str, begin: str, end: str) -> None:
    """Put ``section`` (which starts with ``begin`` and ends with ``end``) in place of the old one in a
    Markdown file, or append it; temp file, then rename."""
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if begin in text and end in text:
        text = text[:text.index(begin)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def real_vectors(index_dir: Path) -> np.ndarray:
    """Live MiniLM claim vectors of an index built by bench_index_build.py (float16 memmap)."""
    from claimmatch.store import open_index

    with open_index(str(index_dir)) as snapshot:
        return snapshot.vectors()


def synthetic_blocks(seed_vectors: np.ndarray, n: int, block: int = 50_000, dup_fraction: float = 0.25,
                     seed: int = 0, sources: bool = False) -> Iterator[np.ndarray | tuple[np.ndarray, np.ndarray]]:
    """n unit vectors shaped like a news archive, built from real claim vectors, block by block.

    Novel claims mix two real claims plus noise (cosine ≈ 0.78 to the nearer one, ≈ 0.55 between two
    derived from one real claim); ``dup_fraction`` of rows are rewrites of a novel claim of their block at
    cosine ≈ 0.80–0.98 (the near-duplicates clustering must find). Deterministic for a given seed.
    ``sources``: yield (vectors, rows) instead, ``rows`` the real claim each vector was mostly made of
    (the first of its two; a rewrite's is its novel claim's), with the same vectors.
    """
    rng = np.random.default_rng(seed)
    dim = seed_vectors.shape[1]
    real = len(seed_vectors)
    done = 0
    while done < n:
        size = min(block, n - done)
        n_dup = int(size * dup_fraction)
        n_new = size - n_dup
        a_rows = np.sort(rng.integers(0, real, n_new))
        a = np.asarray(seed_vectors[a_rows], dtype=np.float32)
        b = np.asarray(seed_vectors[np.sort(rng.integers(0, real, n_new))], dtype=np.float32)
        new = a + 0.5 * b + 0.7 * rng.standard_normal((n_new, dim), dtype=np.float32) / np.sqrt(dim)
        new /= np.linalg.norm(new, axis=1, keepdims=True)
        picked = rng.integers(0, n_new, n_dup)
        src = new[picked]
        noise = rng.uniform(0.2, 0.75, (n_dup, 1)).astype(np.float32)
        dup = src + noise * rng.standard_normal((n_dup, dim), dtype=np.float32) / np.sqrt(dim)
        dup /= np.linalg.norm(dup, axis=1, keepdims=True)
        order = rng.permutation(size)
        out = np.concatenate([new, dup])[order].astype(np.float16).astype(np.float32)
        yield (out, np.concatenate([a_rows, a_rows[picked]])[order]) if sources else out
        done += size
