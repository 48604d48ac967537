"""End-to-end ``claimmatch index build`` on Reuters-21578 against a bare SentenceTransformer.encode.

Three timings, in one run, on the same claim texts:

1. baseline: load all-MiniLM-L6-v2 and ``encode`` the distinct claim texts the build will embed;
2. ``index build`` from the JSONL (read, hash, clean, claims, embed with an empty cache, commit, FAISS);
3. the same ``index build`` again (nothing new: documents are only read and hashed).

    python scripts/bench_index_build.py [--data-dir ../shared/data] [--limit-docs N] [--json docs/bench/index_build.json]

The claim texts for the baseline are extracted beforehand, chunk by chunk exactly as the build does,
and that extraction is not timed (it is part of the build's overhead, not of the baseline).
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
import time
from pathlib import Path

from benchlib import ROOT, machine, peak_rss_mib, save

from claimmatch.claims import extract_claims
from claimmatch.clean import clean_documents
from claimmatch.config import Settings
from claimmatch.embed import MiniLMEmbedder
from claimmatch.indexing import CHUNK_DOCS, update_index
from claimmatch.ingest import iter_documents


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--limit-docs", type=int, default=None, help="first N documents only")
    ap.add_argument("--exclude-ids", default="", help="comma-separated document ids to leave out (reported)")
    ap.add_argument("--work-dir", type=Path, default=None, help="where the index and cache go (default: temp)")
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "bench" / "index_build.json")
    args = ap.parse_args()
    source = args.data_dir / "news" / "reuters21578.jsonl"
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-index-build-"))
    settings = Settings(index_dir=str(work / "indexes"), cache_dir=str(work / "cache"), quiet=True)
    subset = source
    excluded = {x for x in args.exclude_ids.split(",") if x}
    if args.limit_docs or excluded:
        subset = work / "subset.jsonl"
        with source.open(encoding="utf-8") as src, subset.open("w", encoding="utf-8") as dst:
            lines = (ln for ln in src if json.loads(ln)["id"] not in excluded)
            dst.writelines(itertools.islice(lines, args.limit_docs))

    texts, n_docs = claim_texts(subset, None, settings.embed_field)
    unique = list(dict.fromkeys(texts))
    print(f"{n_docs} documents, {len(texts)} claims, {len(unique)} distinct claim texts", flush=True)

    from sentence_transformers import SentenceTransformer

    t0 = time.perf_counter()
    model = SentenceTransformer(str(MiniLMEmbedder().path), device="cpu")
    model.encode(unique, batch_size=settings.batch_size, normalize_embeddings=True, convert_to_numpy=True,
                 show_progress_bar=False)
    baseline = time.perf_counter() - t0
    del model
    print(f"baseline encode: {baseline:.1f}s", flush=True)

    t0 = time.perf_counter()
    first = update_index([subset], "reuters", settings, embedder=MiniLMEmbedder(batch_size=settings.batch_size))
    build = time.perf_counter() - t0
    print(f"index build: {build:.1f}s", flush=True)
    t0 = time.perf_counter()
    again = update_index([subset], "reuters", settings, embedder=MiniLMEmbedder(batch_size=settings.batch_size))
    rerun = time.perf_counter() - t0
    print(f"re-run: {rerun:.2f}s", flush=True)
    assert again.unchanged == first.documents_seen and again.chunks == 0

    save(args.json, {
        "benchmark": "index build vs bare encode (Reuters-21578)", "machine": machine(),
        "source": str(source.name), "documents": n_docs, "limit_docs": args.limit_docs,
        "excluded_ids": sorted(excluded),
        "claims": len(texts), "distinct_claim_texts": len(unique),
        "baseline_encode_s": round(baseline, 2), "index_build_s": round(build, 2), "rerun_s": round(rerun, 3),
        "build_over_encode": round(build / baseline, 3), "rerun_over_encode": round(rerun / baseline, 4),
        "build_report": first.as_dict(), "rerun_report": again.as_dict(),
        "index": {k: first.manifest[k] for k in ("count", "documents", "index_type", "rows")},
        "index_dir": str(work / "indexes" / "reuters"), "peak_rss_mib": peak_rss_mib(),
    })
    print(json.dumps({"build_over_encode": round(build / baseline, 3), "rerun_over_encode": round(rerun / baseline, 4)}))


if __name__ == "__main__":
    main()
