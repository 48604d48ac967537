"""End-to-end ``claimmatch index build`` on Reuters-21578 against a bare SentenceTransformer.encode.

Three timings, in one run, on the same claim texts:

1. baseline: load all-MiniLM-L6-v2 and ``encode`` the distinct claim texts the build will embed;
2. ``index build`` from the JSONL (read, hash, clean, claims, embed with an empty cache, commit, FAISS);
3. the same ``index build`` again over all documents (nothing new: documents are only read and hashed).

The corpus is cut into ``--parts`` consecutive parts (whole chunks of 1,000 documents), and for each part
the baseline and the build (``index add`` of that part) run back to back, in alternating order, so a
change in machine load during the run hits both sides alike. Claim texts for the baseline are extracted
beforehand exactly as the build does; that extraction is not timed (it is build overhead, not baseline).

    python -m benchmarks.bench_index_build [--data-dir ../shared/data] [--limit-docs N] [--exclude-ids ID,...]
                                        [--json docs/bench/index_build.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from pathlib import Path

from benchmarks.results import ROOT, emit, machine, peak_rss_mib
from claimmatch.claims import extract_claims
from claimmatch.clean import clean_documents
from claimmatch.config import Settings
from claimmatch.embed import MiniLMEmbedder
from claimmatch.ingest import iter_documents
from claimmatch.store.ops import CHUNK_DOCS, update_index


def claim_texts(path: Path, limit: int | None, field: str) -> tuple[list[str], int]:
    docs = iter_documents([path])
    texts: list[str] = []
    n_docs = 0
    while True:
        chunk = list(itertools.islice(docs, CHUNK_DOCS))
        if limit is not None:
            chunk = chunk[:max(0, limit - n_docs)]
        if not chunk:
            return texts, n_docs
        n_docs += len(chunk)
        texts += extract_claims(clean_documents(chunk))[field].to_list()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--limit-docs", type=int, default=None, help="first N documents only")
    ap.add_argument("--exclude-ids", default="", help="comma-separated document ids to leave out (reported)")
    ap.add_argument("--work-dir", type=Path, default=None, help="where the index and cache go (default: temp)")
    ap.add_argument("--parts", type=int, default=3, help="interleave baseline and build over this many parts")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "index_build.json")
    args = ap.parse_args(argv)
    source = args.data_dir / "news" / "reuters21578.jsonl"
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-index-build-"))
    work.mkdir(parents=True, exist_ok=True)
    settings = Settings(index_dir=str(work / "indexes"), cache_dir=str(work / "cache"), quiet=True)
    subset = source
    excluded = {x for x in args.exclude_ids.split(",") if x}
    if args.limit_docs or excluded:
        subset = work / "subset.jsonl"
        with source.open(encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
            lines = (ln for ln in src if json.loads(ln)["id"] not in excluded)
            dst.writelines(itertools.islice(lines, args.limit_docs))

    all_lines = subset.read_text(encoding="utf-8").splitlines(keepends=True)
    n_docs = len(all_lines)
    step = -(-n_docs // args.parts // CHUNK_DOCS) * CHUNK_DOCS  # whole chunks: same chunking as one build
    parts = []
    for i in range(0, n_docs, step):
        part = work / f"part-{len(parts)}.jsonl"
        part.write_text("".join(all_lines[i:i + step]), encoding="utf-8")
        parts.append(part)

    from sentence_transformers import SentenceTransformer

    embedder = MiniLMEmbedder(batch_size=settings.batch_size)
    t0 = time.perf_counter()
    model = SentenceTransformer(str(embedder.path), device="cpu")
    baseline = time.perf_counter() - t0
    build = 0.0
    seen: set[str] = set()
    n_claims = n_unique = 0
    reports = []
    for i, part in enumerate(parts):
        texts, _ = claim_texts(part, None, settings.embed_field)
        unique = [t for t in dict.fromkeys(texts) if t not in seen]  # texts of earlier parts are cached
        seen.update(unique)
        n_claims, n_unique = n_claims + len(texts), n_unique + len(unique)
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):  # alternate the order so load drift cancels
            t0 = time.perf_counter()
            if which == 0:
                model.encode(unique, batch_size=settings.batch_size, normalize_embeddings=True,
                             convert_to_numpy=True, show_progress_bar=False)
                baseline += time.perf_counter() - t0
            else:
                reports.append(update_index([part], "reuters", settings, mode="add", embedder=embedder))
                build += time.perf_counter() - t0
        print(f"part {i}: baseline {baseline:.1f}s, build {build:.1f}s so far ({os.getloadavg()[0]:.2f} load)",
              flush=True)
    t0 = time.perf_counter()
    again = update_index([subset], "reuters", settings, embedder=MiniLMEmbedder(batch_size=settings.batch_size))
    rerun = time.perf_counter() - t0
    print(f"re-run: {rerun:.2f}s", flush=True)
    assert again.unchanged == n_docs and again.chunks == 0 and again.removed == 0
    timings: dict[str, float] = {}
    for rep in reports:
        for key, value in rep.timings_s.items():
            timings[key] = round(timings.get(key, 0.0) + value, 3)

    emit(path=args.json, data={
        "benchmark": "index build vs bare encode (Reuters-21578)", "machine": machine(),
        "source": str(source.name), "documents": n_docs, "limit_docs": args.limit_docs,
        "excluded_ids": sorted(excluded), "parts": len(parts),
        "claims": n_claims, "distinct_claim_texts": n_unique,
        "baseline_encode_s": round(baseline, 2), "index_build_s": round(build, 2), "rerun_s": round(rerun, 3),
        "build_over_encode": round(build / baseline, 3), "rerun_over_encode": round(rerun / baseline, 4),
        "build_timings_s": timings, "embedded": sum(r.embedded for r in reports),
        "from_cache": sum(r.from_cache for r in reports), "rerun_report": again.as_dict(),
        "index": {k: again.manifest[k] for k in ("count", "documents", "index_type", "rows")},
        "index_dir": str(work / "indexes" / "reuters"), "peak_rss_mib": peak_rss_mib(),
    })
    print(json.dumps({"build_over_encode": round(build / baseline, 3), "rerun_over_encode": round(rerun / baseline, 4)}))


if __name__ == "__main__":
    main()
