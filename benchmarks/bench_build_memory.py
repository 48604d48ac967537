"""Peak memory of a streamed ``index build`` at several corpus sizes: does it grow with the corpus?

``claimmatch index build`` reads, cleans, parses (spaCy), embeds and commits documents chunk by chunk
(claimmatch/store/ops.py, 1,000 documents a chunk), so its peak memory should be set by the chunk, not by
the corpus. Each size runs ``update_index`` over the first N Reuters-21578 documents in a fresh process and
reports that process's peak resident set size (and its resident and peak memory after each committed
chunk), its wall time and what it indexed. The embedder is a
hashing bag-of-words stand-in (no model weights: parsing and the store are what is measured, and a
MiniLM run of 100k claims would take an hour on this machine); ``--real`` uses all-MiniLM-L6-v2.

    python -m benchmarks.bench_build_memory --sizes 3000,9000 --json docs/bench/build_memory.json
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.results import ROOT, emit, log, machine, peak_rss_mib


class HashingEmbedder:
    """Lower-cased words hashed into 384 dims, L2-normalized: deterministic and model-free."""

    name = "hashing-bow-384@benchmark"
    dim = 384

    def encode(self, texts) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[row, int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little") % self.dim] += 1
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        return out


def _one(n_docs: int, source: Path, work: Path, real: bool) -> dict:
    """Build an index of the first ``n_docs`` documents (runs in the child process)."""
    from claimmatch.config import Settings
    from claimmatch.embed import MiniLMEmbedder
    from claimmatch.store.ops import update_index

    subset = work / f"first-{n_docs}.jsonl"
    with source.open(encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
        dst.writelines(itertools.islice(src, n_docs))
    settings = Settings(index_dir=str(work / "indexes"), cache_dir=str(work / "cache"), quiet=True)
    embedder = MiniLMEmbedder(batch_size=settings.batch_size) if real else HashingEmbedder()
    after_chunks: list[dict] = []

    def note(rep) -> None:  # resident memory now and peak so far, after each committed chunk
        after_chunks.append({"chunk": rep.chunks, "claims": rep.claims_added, "rss_mib": rss_now_mib(),
                             "peak_rss_mib": peak_rss_mib()})

    start = time.perf_counter()
    report = update_index([subset], f"reuters-{n_docs}", settings, embedder=embedder, on_commit=note)
    return {"documents": n_docs, "seconds": round(time.perf_counter() - start, 1), "chunks": report.chunks,
            "claims": int(report.manifest["count"]), "peak_rss_mib": peak_rss_mib(),
            "timings_s": report.timings_s, "after_each_chunk": after_chunks}


def rss_now_mib() -> float:
    """Resident set size of this process now (Linux /proc), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--sizes", default="3000,9000", help="comma-separated document counts")
    ap.add_argument("--real", action="store_true", help="embed with all-MiniLM-L6-v2 instead of the stand-in")
    ap.add_argument("--json", type=Path, default=None, help="write the result here")
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    source = args.data_dir / "news" / "reuters21578.jsonl"
    if not source.exists():
        print(f"{source}: not found; pass --data-dir (the folder holding news/reuters21578.jsonl)", file=sys.stderr)
        return 2
    if args.child:
        print(json.dumps(_one(args.child, source, args.work, args.real)))
        return 0
    runs = []
    for n in [int(x) for x in args.sizes.split(",") if x]:
        with tempfile.TemporaryDirectory(prefix="bench-build-memory-") as tmp:
            log(f"index build of the first {n} documents …")
            cmd = [sys.executable, "-m", "benchmarks.bench_build_memory", "--child", str(n), "--work", tmp,
                   "--data-dir", str(args.data_dir), *(["--real"] if args.real else [])]
            done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
            if done.returncode != 0:
                print(done.stderr, file=sys.stderr)
                return done.returncode
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            log(f"  {runs[-1]['claims']} claims, {runs[-1]['seconds']} s, peak RSS {runs[-1]['peak_rss_mib']} MiB")
    emit({"benchmark": "peak RSS of a streamed index build by corpus size (Reuters-21578)", "machine": machine(),
          "embedder": "all-MiniLM-L6-v2" if args.real else HashingEmbedder.name, "runs": runs}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
