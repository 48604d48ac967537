"""Contradictions on a multi-outlet news corpus: time, NLI model calls, cache hits, peak RSS, and a rerun.

Builds a corpus from ``<data-dir>/news`` (Reuters-21578, AG News test, BBC News; each source split into
``--outlets-per-source`` outlets by a stable hash of the article id, so most candidate pairs cross
outlets), then runs the CLI exactly as a user would, each step in its own process:

1. ``claimmatch index build corpus.jsonl --index bench``
2. ``claimmatch contradictions --index bench`` (NLI cache empty: every needed pair is scored)
3. the same again (every pair should come from the NLI result cache, and the reports be identical)

Everything lives in a scratch folder (``--workdir``, default under /tmp) with its own cache and index
folders. Results are merged by corpus size into ``docs/nli_corpus.json`` and the "NLI at corpus scale"
section of ``docs/BENCHMARKS.md``.

    python -m benchmarks.nli_corpus --data-dir ../shared/data --docs-per-source 120   # ~2.5k claims
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import data, results
from benchmarks.results import log, replace_section

SOURCES = {"Reuters": "reuters21578.jsonl", "AG News": "ag_news_test.jsonl", "BBC": "bbc_news.jsonl"}
BEGIN, END = "<!-- nli_corpus:begin -->", "<!-- nli_corpus:end -->"
ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    p.add_argument("--docs-per-source", type=int, default=120, help="articles taken from each source")
    p.add_argument("--outlets-per-source", type=int, default=10)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/claimmatch-nli-corpus"))
    p.add_argument("--engine", choices=("local", "ray"), default="local", help="NLI engine of the contradiction runs")
    p.add_argument("--precision", default=None, help="NLI precision (default: the shipped setting)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "nli_corpus.json")
    p.add_argument("--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md",
                   help="file whose 'NLI at corpus scale' section is replaced ('-': print it instead)")
    return p.parse_args(argv)


def outlet_of(source: str, doc_id: str, n: int) -> str:
    k = int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % n
    return f"{source} {k:02d}"


def build_corpus(data_dir: Path, per_source: int, outlets: int, path: Path) -> dict:
    """The first ``per_source`` non-empty articles of each source, spread over ``outlets`` outlets each."""
    counts = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for source, file in SOURCES.items():
            n = 0
            with (data_dir / "news" / file).open(encoding="utf-8") as fh:
                for line in fh:
                    row = json.loads(line)
                    if not (row.get("text") or "").strip():
                        continue
                    out.write(json.dumps({"id": row["id"], "title": row.get("title") or "", "text": row["text"],
                                          "outlet": outlet_of(source, row["id"], outlets)}, ensure_ascii=False) + "\n")
                    n += 1
                    if n >= per_source:
                        break
            counts[source] = n
    return counts


# The CLI in a child process that records its own peak RSS on the way out (RUSAGE_CHILDREN would mix commands).
_CHILD = """import os, resource, sys
from claimmatch.cli import app
try:
    app(sys.argv[1:], prog_name="claimmatch")
finally:
    with open(os.environ["NLI_CORPUS_RSS_FILE"], "w") as fh:
        fh.write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def run_cli(args: list[str], env: dict, workdir: Path) -> dict:
    """One CLI command in its own process: wall time and that process's peak RSS (Linux: KiB)."""
    rss_file = workdir / "rss.txt"
    rss_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], env={**env, "NLI_CORPUS_RSS_FILE": str(rss_file)},
                          capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"claimmatch {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.strip()}")
    peak = round(int(rss_file.read_text()) / 1024, 1) if rss_file.exists() else None
    return {"seconds": round(seconds, 1), "peak_rss_mib": peak, "stdout": proc.stdout, "stderr": proc.stderr}


def contradiction_step(name: str, workdir: Path, env: dict, extra: list[str]) -> dict:
    out = workdir / name
    res = run_cli(["contradictions", "--index", "bench", "--out", str(out), "--quiet", *extra], env, workdir)
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    nli = info.get("nli") or {}
    counts = info["counts"]
    return {"seconds": res["seconds"], "peak_rss_mib": res["peak_rss_mib"],
            "model_calls": nli.get("calls", counts.get("nli_pairs_scored")), "cache_hits": nli.get("cached"),
            "memo_hits": nli.get("memo"), "nli_seconds": nli.get("seconds"), "pairs_per_s": nli.get("pairs_per_s"),
            "candidate_pairs": counts.get("candidate_pairs"), "contradictions": counts.get("contradiction_pairs"),
            "claims": counts.get("claims"), "nli_model": nli.get("model"), "stage_seconds": info.get("timings_s")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    workdir = args.workdir
    if workdir.exists():
        shutil.rmtree(workdir)
    env = {**os.environ, "CLAIMMATCH_CACHE_DIR": str(workdir / "cache"),
           "CLAIMMATCH_INDEX_DIR": str(workdir / "indexes"), "CLAIMMATCH_NLI_ENGINE": args.engine,
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    if args.precision:
        env["CLAIMMATCH_NLI_PRECISION"] = args.precision
    corpus = workdir / "corpus.jsonl"
    docs = build_corpus(args.data_dir, args.docs_per_source, args.outlets_per_source, corpus)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"corpus: {docs} articles, {args.outlets_per_source} outlets per source; building the index")
    build = run_cli(["index", "build", str(corpus), "--index", "bench", "--quiet"], env, workdir)
    log(f"index build: {build['seconds']} s; contradictions, empty NLI cache")
    first = contradiction_step("out-first", workdir, env, [])
    log(f"first run: {first['seconds']} s, {first['model_calls']} model calls; rerun from the cache")
    rerun = contradiction_step("out-rerun", workdir, env, [])
    same = all((workdir / "out-first" / f).read_bytes() == (workdir / "out-rerun" / f).read_bytes()
               for f in ("contradictions.parquet", "contradictions.md", "clusters.parquet"))
    result = {
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(), "cpu_cores": os.cpu_count(),
        "python": platform.python_version(), "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()], "engine": args.engine,
        "documents": docs, "outlets": args.outlets_per_source * len(SOURCES), "claims": first["claims"],
        "index_build": {"seconds": build["seconds"], "peak_rss_mib": build["peak_rss_mib"]},
        "first": first, "rerun": rerun, "rerun_reports_identical": same,
    }
    log(json.dumps({k: result[k] for k in ("claims", "rerun_reports_identical")}))
    save(result, args)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if same and rerun["model_calls"] == 0 else 1


def save(result: dict, args: argparse.Namespace) -> None:
    """Merge this run into the JSON (one entry per corpus size) and rewrite the Markdown table from it."""
    runs = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {"runs": {}}
    runs["runs"][str(result["claims"])] = result
    results.emit(runs, args.json)
    md = markdown(runs)
    if str(args.markdown) == "-":
        print(md)
        return
    replace_section(args.markdown, md, BEGIN, END)


def markdown(data: dict) -> str:
    lines = [BEGIN, "## NLI at corpus scale (`python -m benchmarks.nli_corpus`)", "",
             "Multi-outlet corpus from Reuters-21578, AG News test and BBC News (each source split into outlets "
             "by a hash of the article id); `index build`, then `contradictions --index` twice, each command in "
             "its own process. The second run reads every NLI score from the result cache. Peak RSS is the "
             "contradiction process's own.", "",
             "| claims | documents | outlets | NLI model | load avg | index build s | contradictions s | candidate pairs "
             "| model calls | pairs/s | peak RSS MiB | rerun s | rerun model calls | rerun cache hits | same reports |",
             "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for _, r in sorted(data["runs"].items(), key=lambda kv: int(kv[0])):
        f, s = r["first"], r["rerun"]
        lines.append(f"| {r['claims']:,} | {sum(r['documents'].values()):,} | {r['outlets']} | `{f['nli_model']}` "
                     f"| {r['load_average_before'][0]} | {r['index_build']['seconds']} | {f['seconds']} "
                     f"| {f['candidate_pairs']:,} | {f['model_calls']:,} | {f['pairs_per_s']} | {f['peak_rss_mib']} "
                     f"| {s['seconds']} | {s['model_calls']:,} | {s['cache_hits']:,} "
                     f"| {'yes' if r['rerun_reports_identical'] else 'no'} |")
    lines += ["", "Raw numbers (per-stage seconds included): `docs/nli_corpus.json`.", END]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
