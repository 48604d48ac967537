"""`claimmatch contradictions --index` at 100k … 1M claims: peak memory, time by step and model calls.

The NLI model is the one part of the run whose cost is known per call (pairs/s, docs/BENCHMARKS.md), so
here a deterministic stand-in answers it (:class:`StandInNLI`: a hash of the two texts picks neutral,
entailment or contradiction) and everything else runs as shipped: loading the index, the clustering judge
(retrieval, the pairs it asks about, grouping), the contradiction stage (candidates, one-story gate, NLI
path, who-did-it with real MiniLM phrase vectors), topics, reports and the stored state. What the model
would cost is its calls divided by its throughput, measured here on pairs of real claims (``model_rate``).

Index: the real claims of ``--real-index`` (text, frames, vectors; an index built by ``index build``), then
synthetic claims up to the size: vectors from :func:`benchmarks.results.synthetic_blocks` (news-shaped
mixes of real vectors, a quarter near-duplicates), each row copied from the real claim its vector was
mostly made of (text and frame), under new ids: 8 claims per document, 400 outlets. Steps, each in its own
process as a user runs them: build the index; ``contradictions --index`` (first run, empty store); add
``--add`` more synthetic claims (``index add``'s writer); the incremental ``contradictions --index``.

    python -m benchmarks.contradictions_scale --real-index indexes/bench --sizes 100000,1000000 \
        --json docs/contradictions_scale.json
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
import xxhash

from benchmarks.results import ROOT, emit, machine, peak_rss_mib, synthetic_blocks

CHUNK = 50_000
PER_DOC = 8
OUTLETS = 400


class StandInNLI:
    """Deterministic NLI probabilities from a hash of the two texts: 2 % contradiction (0.97), 30 %
    entailment (0.90), the rest neutral. Fast, so the run's time is everything but the model."""

    name = "stand-in-nli"
    labels = ("entailment", "neutral", "contradiction")

    def __init__(self) -> None:
        self.calls = 0

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        self.calls += len(pairs)
        out = np.empty((len(pairs), 3), np.float32)
        for k, (a, b) in enumerate(pairs):
            h = xxhash.xxh3_64_intdigest(a.encode() + b"\x00" + b.encode()) % 100
            out[k] = (0.01, 0.02, 0.97) if h < 2 else (0.90, 0.08, 0.02) if h < 32 else (0.05, 0.90, 0.05)
        return out


def _rows(real: pl.DataFrame, source: np.ndarray, start: int) -> pl.DataFrame:
    ids = np.arange(start, start + len(source))
    docs = ids // PER_DOC
    return real[source.tolist()].with_columns(
        pl.Series("claim_id", [f"syn-{d}#{i % PER_DOC}.0" for d, i in zip(docs, ids, strict=True)]),
        pl.Series("doc_id", [f"syn-{d}" for d in docs]),
        pl.Series("outlet", [f"outlet{d % OUTLETS}" for d in docs]))


def _writer(path: Path):
    from claimmatch.embed import MiniLMEmbedder
    from claimmatch.store import IndexWriter
    from claimmatch.store.manifest import read_manifest

    m = read_manifest(path)
    return IndexWriter(path, MiniLMEmbedder(), embed_field=m.get("embed_field", "text"), extractor=m.get("extractor"))


def stage_build(real_index: Path, n: int, path: Path, start: int, seed: int) -> dict:
    """Copy the real index to ``path`` (first call) and append synthetic claims until it holds ``n``."""
    from claimmatch.store import open_index

    if start == 0:  # the real index's files, without the state of any contradictions run on it
        shutil.copytree(real_index, path, ignore=shutil.ignore_patterns("contradictions", "LOCK", "WRITER", "pins"))
    from claimmatch.records import CLAIM_COLUMNS

    with open_index(str(real_index)) as snap:
        real_vecs = np.asarray(snap.memmap(), dtype=np.float32)
        real = snap.claims(CLAIM_COLUMNS).select(CLAIM_COLUMNS)
    have = start or len(real)
    t0 = time.perf_counter()
    with _writer(path) as writer:
        done = have
        for block, source in synthetic_blocks(real_vecs, n - have, block=CHUNK, seed=seed, sources=True):
            writer.commit(_rows(real, source, done), block)
            done += len(block)
        manifest = writer.finalize()
    return {"build_s": round(time.perf_counter() - t0, 1), "claims": manifest["count"],
            "index_type": manifest["index_type"], "build_peak_rss_mib": peak_rss_mib()}


def stage_contradictions(path: Path, out: Path, cache: Path) -> dict:
    from claimmatch.config import Settings
    from claimmatch.pipeline import contradictions, make_judge

    settings = Settings(quiet=True, cache_dir=str(cache))
    model = StandInNLI()
    t0 = time.perf_counter()
    res = contradictions(str(path), out, settings, judge=make_judge(settings, model))
    c = res.info["counts"]
    return {"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mib": peak_rss_mib(),
            "model_calls": model.calls, "timings_s": res.info["timings_s"],
            "counts": {k: c.get(k) for k in ("claims", "claims_new", "candidate_pairs", "contradiction_candidates",
                                             "candidates_dropped_other_story", "who_did_it_candidates",
                                             "contradiction_pairs", "nli_calls_cluster", "nli_calls")}}


def stage_rate(real_index: Path, pairs: int = 2000, passes: int = 3) -> dict:
    """The shipped model's pairs/s on pairs of real claims the stage would ask about (each claim and its
    nearest other claim), at the settings' precision and this process's torch threads: median of passes."""
    import faiss
    import torch

    from claimmatch.config import Settings
    from claimmatch.nli import load_model
    from claimmatch.store import open_index

    with open_index(str(real_index)) as snap:
        vecs = np.asarray(snap.memmap()[:pairs], dtype=np.float32)
        texts = snap.claims(["text"])["text"].to_list()[:pairs]
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(vecs)
    _, nearest = index.search(vecs, 2)
    batch = [(texts[k], texts[int(nearest[k, 1])]) for k in range(len(texts))]
    model = load_model(precision=Settings().nli_precision)
    model.predict(batch[:256])  # warm-up
    rates = []
    for _ in range(passes):
        t0 = time.perf_counter()
        model.predict(batch)
        rates.append(len(batch) / (time.perf_counter() - t0))
    return {"pairs_per_s": round(float(np.median(rates)), 1), "pairs": len(batch), "passes": passes,
            "torch_threads": torch.get_num_threads(), "precision": Settings().nli_precision}


def _child(args: list[str]) -> dict:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.contradictions_scale", *args], capture_output=True,
                          text=True, cwd=ROOT)
    if proc.returncode:
        sys.exit(f"{args[:2]} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--real-index", type=Path, required=True, help="an index built by 'claimmatch index build'")
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--add", type=int, default=10_000, help="claims added before the incremental run")
    ap.add_argument("--work-dir", type=Path, default=None)
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="embedding cache for who-did-it's phrases (default: a fresh one per size)")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "contradictions_scale.json")
    ap.add_argument("--keep", action="store_true", help="keep each size's index and reports under --work-dir")
    ap.add_argument("--stage", choices=["build", "contradictions", "rate"], help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.stage == "build":
        print(json.dumps(stage_build(args.real_index, args.n, args.path, args.start, seed=5 + args.start)))
        return 0
    if args.stage == "contradictions":
        print(json.dumps(stage_contradictions(args.path, args.out, args.cache_dir)))
        return 0
    if args.stage == "rate":
        print(json.dumps(stage_rate(args.real_index)))
        return 0
    rate = _child(["--real-index", str(args.real_index), "--stage", "rate"])
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        work = Path(tempfile.mkdtemp(prefix=f"contradictions-scale-{n}-", dir=args.work_dir))
        idx, cache = work / "idx", args.cache_dir or work / "cache"
        common = ["--real-index", str(args.real_index), "--path", str(idx), "--cache-dir", str(cache)]
        row: dict = {"n": n, "build": _child([*common, "--stage", "build", "--n", str(n)])}
        row["first"] = _child([*common, "--stage", "contradictions", "--out", str(work / "first")])
        row["add"] = _child([*common, "--stage", "build", "--n", str(n + args.add), "--start", str(n)])
        row["incremental"] = _child([*common, "--stage", "contradictions", "--out", str(work / "incremental")])
        row["disk_mib"] = round(sum(p.stat().st_size for p in idx.rglob("*") if p.is_file()) / 2**20, 1)
        print(json.dumps(row), flush=True)
        rows.append(row)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for row in rows:  # what the model's calls would add at the measured rate
        for run in ("first", "incremental"):
            row[run]["model_s_at_rate"] = round(row[run]["model_calls"] / rate["pairs_per_s"], 1)
    emit({"benchmark": "contradictions --index by size, NLI stood in", "machine": machine(),
          "real_index": str(args.real_index), "model_rate": rate, "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
