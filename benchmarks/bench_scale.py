"""Index and cluster 10k … 1M claims: wall time and peak memory (RSS) of each stage, by size.

Each stage runs in its own process, as a user would run ``claimmatch index build`` then
``claimmatch cluster``: (1) write the index chunk by chunk (50k claims per commit) and finalize it
(type by size: flat, or IVF-SQ8 above the break-even); (2) ``indexing.cluster_index`` — the function
behind ``claimmatch cluster`` — which writes claims.parquet, clusters.parquet, clusters.md, run.json.

Claims: the real Reuters claims (text and MiniLM vectors) of ``--real-index`` first, then synthetic
claims with vectors derived from them (benchmarks.results.synthetic_blocks) up to the size. Embedding is not part
of this benchmark (see bench_index_build.py for it).

    python -m benchmarks.bench_scale --real-index INDEX_DIR [--sizes 10000,100000,1000000] [--json ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks.results import ROOT, emit, machine, peak_rss_mib, real_vectors, synthetic_blocks

CHUNK = 50_000


class SyntheticModel:
    """Stands in for the embedder in the manifest: the vectors are given, nothing is embedded."""

    name = "all-MiniLM-L6-v2@benchmark-vectors"
    dim = 384


def synthetic_claims(start: int, n: int) -> pl.DataFrame:
    from claimmatch.claims import CLAIM_SCHEMA

    ids = np.arange(start, start + n)
    text = [f"Synthetic claim number {i} about topic {i % 5000}." for i in ids]
    docs = ids // 8
    return pl.DataFrame({
        "claim_id": [f"syn-{d}#{i % 8:03d}" for d, i in zip(docs, ids, strict=True)],
        "doc_id": [f"syn-{d}" for d in docs], "outlet": [f"outlet{d % 400}" for d in docs],
        "title": [f"Synthetic story {d}" for d in docs], "url": [None] * n, "text": text,
        "char_start": [0] * n, "char_end": [len(t) for t in text], "speaker": [None] * n, "quoted": [False] * n,
        "core": text, "sent_index": (ids % 8).tolist(),
    }, schema=CLAIM_SCHEMA)


def stage_index(real_index: Path, n: int, path: Path) -> dict:
    from claimmatch.claims import CLAIM_COLUMNS
    from claimmatch.store import IndexWriter, open_index

    real = open_index(str(real_index))
    real_vecs = real.vectors()
    n_real = min(n, len(real_vecs))
    t0 = time.perf_counter()
    with IndexWriter(path, SyntheticModel()) as writer:
        if n_real:
            claims = real.claims(CLAIM_COLUMNS).select(CLAIM_COLUMNS).head(n_real)
            for lo in range(0, n_real, CHUNK):
                part = claims.slice(lo, CHUNK)
                writer.commit(part, np.asarray(real_vecs[lo:lo + len(part)], dtype=np.float32))
        done = n_real
        for block in synthetic_blocks(real_vectors(real_index), n - n_real, block=CHUNK, seed=5):
            writer.commit(synthetic_claims(done, len(block)), block)
            done += len(block)
        t1 = time.perf_counter()
        manifest = writer.finalize()
    t2 = time.perf_counter()
    return {"commit_s": round(t1 - t0, 2), "finalize_s": round(t2 - t1, 2), "index_s": round(t2 - t0, 2),
            "index_type": manifest["index_type"], "claims": manifest["count"], "real_claims": n_real,
            "index_peak_rss_mib": peak_rss_mib()}


def stage_cluster(path: Path, out: Path) -> dict:
    from claimmatch.config import Settings
    from claimmatch.store import cluster_index

    t0 = time.perf_counter()
    res = cluster_index(str(path), out, Settings(quiet=True, use_nli=False))
    seconds = time.perf_counter() - t0
    c = res.info["counts"]
    return {"cluster_s": round(seconds, 2), "cluster_stages_s": res.info["timings_s"],
            "clusters": c["clusters"], "cross_outlet_clusters": c["cross_outlet_clusters"],
            "candidate_pairs": c["candidate_pairs"], "cluster_peak_rss_mib": peak_rss_mib()}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real-index", type=Path, required=True)
    ap.add_argument("--sizes", default="10000,30000,100000,300000,1000000")
    ap.add_argument("--work-dir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "scale.json")
    ap.add_argument("--stage", choices=["index", "cluster"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stage == "index":
        print(json.dumps(stage_index(args.real_index, args.n, args.path)))
        return
    if args.stage == "cluster":
        print(json.dumps(stage_cluster(args.path, args.path.parent / "out")))
        return
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{n}-", dir=args.work_dir))
        row: dict = {"n": n}
        for stage in ("index", "cluster"):
            proc = subprocess.run([sys.executable, __file__, "--real-index", str(args.real_index), "--stage", stage,
                                   "--n", str(n), "--path", str(work / "idx")], capture_output=True, text=True)
            if proc.returncode:
                sys.exit(f"{stage} at {n} failed:\n{proc.stderr[-3000:]}")
            row.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        row["disk_mib"] = round(sum(p.stat().st_size for p in (work / "idx").iterdir()) / 2**20, 1)
        print(row, flush=True)
        rows.append(row)
        shutil.rmtree(work, ignore_errors=True)
    emit(path=args.json, data={"benchmark": "index + cluster by size", "machine": machine(), "rows": rows})


if __name__ == "__main__":
    main()
