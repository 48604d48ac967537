"""What the index integrity checks cost: open/search/cluster with and without them, verify, compact.

Builds an index of the first ``--docs`` Reuters articles with the real embedder, then times, interleaved
in one run so machine load hits every variant alike (medians over ``--repeat`` runs):

- ``checked``: the shipped code (manifest checksum, a size check per file on open, hashes of every file
  read whole, every vector row hashed before clustering; the reader's generation pinned);
- ``unchecked``: the same code with those checks patched out (pins kept);
- ``bare``: no checks and no pin either.

Also: ``index verify`` (reads and hashes every byte), a compaction after removing 10 % of the documents,
and xxh3-128 against blake2b and sha256 throughput. Writes ``docs/bench/store_checks.json``.

    python -m benchmarks.store_checks --docs 2000
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from unittest import mock

import numpy as np
import xxhash

from benchmarks.data import DEFAULT_DATA_DIR
from benchmarks.results import ROOT, emit, machine
from claimmatch.config import Settings
from claimmatch.pipeline import default_embedder
from claimmatch.store import (
    cluster_index,
    compact_index,
    open_index,
    remove_documents,
    search_index,
    update_index,
    verify_index,
)
from claimmatch.store import reader as reader_mod
from claimmatch.store.ops import disk_size

QUERIES = ["The central bank raised interest rates", "Oil prices fell on Monday", "The company reported a loss",
           "Wheat exports to the Soviet Union", "The dollar rose against the yen"]


def load_avg() -> list[float]:
    """The machine is shared: its load says how far wall times can be trusted."""
    return [round(x, 2) for x in os.getloadavg()]


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """``checked`` as shipped; ``unchecked`` without hashes, sizes or checksum; ``bare`` without pins too."""
    if name == "checked":
        yield
        return
    patches = [
        mock.patch.object(reader_mod, "read_checked", lambda path, fname, meta: (path / fname).read_bytes()),
        mock.patch.object(reader_mod, "check_sizes", lambda path, manifest: None),
        mock.patch.object(reader_mod, "read_manifest",
                          lambda path: json.loads((path / "manifest.json").read_text(encoding="utf-8"))),
        mock.patch.object(reader_mod.IndexSnapshot, "check_vectors", lambda self: None),
    ]
    if name == "bare":
        patches.append(mock.patch.object(reader_mod, "_pin", lambda path: None))
    with contextlib.ExitStack() as stack:
        for p in patches:
            stack.enter_context(p)
        yield


VARIANTS = ("checked", "unchecked", "bare")


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def compare(fn: Callable[[], object], repeat: int) -> dict:
    """Median wall and CPU seconds per variant, the variants interleaved round by round."""
    runs: dict[str, list[tuple[float, float]]] = {v: [] for v in VARIANTS}
    for v in VARIANTS:  # warm-up: page cache, lazy imports
        with variant(v):
            fn()
    for _ in range(repeat):
        for v in VARIANTS:
            with variant(v):
                runs[v].append(timed(fn))
    out = {v: {"wall_ms": round(1000 * statistics.median(r[0] for r in rs), 2),
               "cpu_ms": round(1000 * statistics.median(r[1] for r in rs), 2)} for v, rs in runs.items()}
    for key in ("wall_ms", "cpu_ms"):
        out[f"checked_over_unchecked_{key[:-3]}"] = round(out["checked"][key] / max(out["unchecked"][key], 1e-9), 3)
        out[f"checked_over_bare_{key[:-3]}"] = round(out["checked"][key] / max(out["bare"][key], 1e-9), 3)
    return out


def hash_speed(mib: int = 64) -> dict:
    data = np.random.default_rng(0).bytes(mib << 20)
    out = {}
    for name, fn in (("xxh3_128", xxhash.xxh3_128_hexdigest), ("blake2b", lambda d: hashlib.blake2b(d).hexdigest()),
                     ("sha256", lambda d: hashlib.sha256(d).hexdigest())):
        best = min(timed(lambda fn=fn: fn(data))[0] for _ in range(3))
        out[f"{name}_gb_s"] = round(len(data) / best / 1e9, 2)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR)
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--cluster-repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "store_checks.json")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="store_checks-"))
    try:
        settings = Settings(index_dir=str(work / "indexes"), quiet=True, use_nli=False)
        source = args.data_dir / "news" / "reuters21578.jsonl"
        corpus = work / "reuters.jsonl"
        with open(source, encoding="utf-8") as fh:
            corpus.write_text("".join(line for _, line in zip(range(args.docs), fh, strict=False)), encoding="utf-8")
        embedder = default_embedder(settings)
        t0 = time.perf_counter()
        rep = update_index([corpus], "reuters", settings, embedder=embedder)
        build_s = time.perf_counter() - t0
        m = rep.manifest
        path = Path(settings.index_dir) / "reuters"
        queries = iter(QUERIES * 1000)

        def open_for_search() -> None:
            with open_index("reuters", settings) as snap:
                snap.faiss_index  # noqa: B018 - reading it is the point
                snap.claims(["claim_id", "text"], np.arange(10))

        result = {
            "benchmark": "index integrity checks", "machine": {**machine(), "load_avg_1_5_15": load_avg()},
            "docs": args.docs, "claims": m["count"], "index_type": m["index_type"],
            "index_bytes": disk_size(path), "build_s": round(build_s, 1), "repeat": args.repeat,
            "open_for_search": compare(open_for_search, args.repeat),
            "search": compare(lambda: search_index("reuters", next(queries), 10, settings, embedder), args.repeat),
            "cluster": compare(lambda: cluster_index("reuters", work / "out", settings), args.cluster_repeat),
        }
        verify_runs = [timed(lambda: verify_index("reuters", settings)) for _ in range(5)]
        report = verify_index("reuters", settings)
        result["verify"] = {"sound": report.sound, "wall_ms": round(1000 * statistics.median(w for w, _ in verify_runs), 1),
                            "bytes_hashed": report.checked["bytes_hashed"],
                            "faiss_rows_compared": report.checked["faiss_rows_compared"]}
        with open_index("reuters", settings) as snap:
            doc_ids = snap.documents()["doc_id"].to_list()
        remove_documents("reuters", doc_ids[::10], settings)
        before = disk_size(path)
        wall, cpu = timed(lambda: compact_index("reuters", settings))
        result["compact"] = {"removed_docs": len(doc_ids[::10]), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                             "bytes_before": before, "bytes_after": disk_size(path),
                             "sound_after": verify_index("reuters", settings).sound}
        result["hash_speed"] = hash_speed()
        result["machine"]["load_avg_after"] = load_avg()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    emit(result, args.json)


if __name__ == "__main__":
    main()
