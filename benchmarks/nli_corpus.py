"""Contradictions on a multi-outlet news corpus: time, NLI model calls, peak RSS, a rerun and an incremental run.

Builds a corpus from ``<data-dir>/news`` (Reuters-21578, AG News test, BBC News; each source split into
``--outlets-per-source`` outlets by a stable hash of the article id, so most candidate pairs cross
outlets), then runs the CLI exactly as a user would, each step in its own process:

1. ``claimmatch index build corpus.jsonl --index bench``
2. ``claimmatch contradictions --index bench`` (NLI cache empty: every needed pair is scored); its time
   and model calls are split between the clustering judge and the contradiction stage
3. the same again (every pair should come from the NLI result cache, and the reports be identical)
4. ``claimmatch index add more.jsonl --index bench`` with the next ``--add-fraction`` articles of each
   source, then ``contradictions --index bench`` (incremental: only pairs with the new claims are new)
   and ``contradictions --index bench --full`` (the stored scores ignored; the SQLite cache still
   answers), whose reports must be byte-identical to the incremental run's

Everything lives in a scratch folder (``--workdir``, default under /tmp) with its own cache and index
folders. Results are merged by corpus size into ``docs/nli_corpus.json`` and the "NLI at corpus scale"
section of ``docs/BENCHMARKS.md``, with a projection to larger corpora from the measured sizes (model
calls per claim fitted as a power of the corpus size, pairs/s of the largest run).

    python -m benchmarks.nli_corpus --data-dir ../shared/data --docs-per-source 120   # ~2.5k claims
    python -m benchmarks.nli_corpus --docs-per-source 510 --nli-model DIR              # ~10k claims
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
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
    p.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    p.add_argument("--add-fraction", type=float, default=0.1,
                   help="articles added after the first runs, as a fraction of --docs-per-source (0: no add step)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "nli_corpus.json")
    p.add_argument("--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md",
                   help="file whose 'NLI at corpus scale' section is replaced ('-': print it instead)")
    return p.parse_args(argv)


def outlet_of(source: str, doc_id: str, n: int) -> str:
    k = int(hashlib.sha256(doc_id.encode()).hexdigest(), 16) % n
    return f"{source} {k:02d}"


def build_corpus(data_dir: Path, per_source: int, outlets: int, path: Path, add: int = 0,
                 add_path: Path | None = None) -> tuple[dict, dict]:
    """The first ``per_source`` non-empty articles of each source, spread over ``outlets`` outlets each, and
    the ``add`` articles after them in ``add_path`` (what a later ``index add`` brings)."""
    counts: dict[str, int] = {}
    added: dict[str, int] = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = add_path.open("w", encoding="utf-8") if add_path is not None and add > 0 else None
    try:
        with path.open("w", encoding="utf-8") as out:
            for source, file in SOURCES.items():
                n = m = 0
                with (data_dir / "news" / file).open(encoding="utf-8") as fh:
                    for line in fh:
                        row = json.loads(line)
                        if not (row.get("text") or "").strip():
                            continue
                        record = json.dumps({"id": row["id"], "title": row.get("title") or "", "text": row["text"],
                                             "outlet": outlet_of(source, row["id"], outlets)}, ensure_ascii=False)
                        if n < per_source:
                            out.write(record + "\n")
                            n += 1
                        elif extra is not None and m < add:
                            extra.write(record + "\n")
                            m += 1
                        if n >= per_source and (extra is None or m >= add):
                            break
                counts[source] = n
                added[source] = m
    finally:
        if extra is not None:
            extra.close()
    return counts, added


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


REPORTS = ("contradictions.parquet", "contradictions.md", "clusters.parquet")


def contradiction_step(name: str, workdir: Path, env: dict, extra: list[str]) -> dict:
    """One ``contradictions --index bench`` run: time, memory, and from its run.json the model calls and
    seconds of the clustering judge and of the contradiction stage."""
    out = workdir / name
    res = run_cli(["contradictions", "--index", "bench", "--out", str(out), "--quiet", *extra], env, workdir)
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    nli = info.get("nli") or {}
    counts = info["counts"]
    stages = info.get("timings_s") or {}
    return {"seconds": res["seconds"], "peak_rss_mib": res["peak_rss_mib"],
            "model_calls": nli.get("calls", counts.get("nli_pairs_scored")), "cache_hits": nli.get("cached"),
            "memo_hits": nli.get("memo"), "nli_seconds": nli.get("seconds"), "pairs_per_s": nli.get("pairs_per_s"),
            "model_calls_cluster": counts.get("model_calls_cluster"),
            "model_calls_contradictions": counts.get("model_calls_contradictions"),
            "judge_forward": counts.get("nli_calls_cluster_forward"),
            "judge_reverse": counts.get("nli_calls_cluster_reverse"),
            "judge_reverse_skipped": counts.get("nli_calls_cluster_reverse_skipped"),
            "cluster_seconds": stages.get("cluster"), "contradiction_stage_seconds": stages.get("contradictions"),
            "candidate_pairs": counts.get("candidate_pairs"),
            "contradiction_candidates": counts.get("contradiction_candidates"),
            "contradictions": counts.get("contradiction_pairs"), "claims": counts.get("claims"),
            "claims_new": counts.get("claims_new"), "nli_pairs_reused": counts.get("nli_pairs_reused"),
            "nli_model": nli.get("model"), "stage_seconds": stages}


def same_reports(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in REPORTS)


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
    if args.nli_model:
        env["CLAIMMATCH_NLI_MODEL"] = str(Path(args.nli_model).resolve())
    corpus, more = workdir / "corpus.jsonl", workdir / "more.jsonl"
    n_add = math.ceil(args.docs_per_source * args.add_fraction)
    docs, added = build_corpus(args.data_dir, args.docs_per_source, args.outlets_per_source, corpus, n_add, more)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"corpus: {docs} articles, {args.outlets_per_source} outlets per source; building the index")
    build = run_cli(["index", "build", str(corpus), "--index", "bench", "--quiet"], env, workdir)
    log(f"index build: {build['seconds']} s; contradictions, empty NLI cache")
    first = contradiction_step("out-first", workdir, env, [])
    log(f"first run: {first['seconds']} s, {first['model_calls']} model calls; rerun from the cache")
    rerun = contradiction_step("out-rerun", workdir, env, [])
    same = same_reports(workdir / "out-first", workdir / "out-rerun")
    result = {
        "date": datetime.now(UTC).replace(microsecond=0).isoformat(), "cpu_cores": os.cpu_count(),
        "python": platform.python_version(), "load_average_before": load_before, "engine": args.engine,
        "documents": docs, "outlets": args.outlets_per_source * len(SOURCES), "claims": first["claims"],
        "index_build": {"seconds": build["seconds"], "peak_rss_mib": build["peak_rss_mib"]},
        "first": first, "rerun": rerun, "rerun_reports_identical": same,
    }
    ok = same and rerun["model_calls"] == 0
    if sum(added.values()):
        log(f"rerun: {rerun['seconds']} s; index add of {added} articles")
        add = run_cli(["index", "add", str(more), "--index", "bench", "--quiet"], env, workdir)
        incremental = contradiction_step("out-incremental", workdir, env, [])
        log(f"incremental run: {incremental['seconds']} s, {incremental['model_calls']} model calls; --full run")
        full = contradiction_step("out-full", workdir, env, ["--full"])
        identical = same_reports(workdir / "out-incremental", workdir / "out-full")
        result.update({"added_documents": added,
                       "index_add": {"seconds": add["seconds"], "peak_rss_mib": add["peak_rss_mib"]},
                       "incremental": incremental, "full_after_add": full,
                       "incremental_reports_identical": identical})
        ok = ok and identical
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    log(json.dumps({k: result.get(k) for k in ("claims", "rerun_reports_identical", "incremental_reports_identical")}))
    save(result, args)
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


def save(result: dict, args: argparse.Namespace) -> None:
    """Merge this run into the JSON (one entry per corpus size) and rewrite the Markdown section from it."""
    runs = json.loads(args.json.read_text(encoding="utf-8")) if args.json.exists() else {"runs": {}}
    runs["runs"][str(result["claims"])] = result
    md = markdown(runs)  # also stores the projection in ``runs``
    results.emit(runs, args.json)
    if str(args.markdown) == "-":
        print(md)
        return
    replace_section(args.markdown, md, BEGIN, END)


def _n(x) -> str:
    return "–" if x is None else f"{x:,}" if isinstance(x, int) else str(x)


def fit_power(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(c, b) of y = c · x^b, least squares in log-log space (two points: the line through them)."""
    lx = [math.log(x) for x, _ in points]
    ly = [math.log(y) for _, y in points]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    var = sum((v - mx) ** 2 for v in lx)
    b = sum((u - mx) * (v - my) for u, v in zip(lx, ly, strict=True)) / var if var else 0.0
    return math.exp(my - b * mx), b


def fit_line(points: list[tuple[float, float]]) -> tuple[float, float]:
    """(a, b) of y = a + b · x, least squares."""
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0
    return my - b * mx, b


def projection(runs: list[dict], sizes: tuple[int, ...] = (100_000, 1_000_000), add: int = 10_000) -> dict | None:
    """Contradiction time, model calls and RSS at larger sizes, extrapolated from the measured runs.

    Model calls per claim are fitted as a power of the corpus size (they grow as the corpus gets denser:
    more neighbours above the candidate cosine, up to the ``neighbors`` cap), peak RSS as a line; NLI time is calls at the largest run's
    pairs/s, the rest of the run scales with its per-claim seconds. An incremental run after adding ``add``
    claims: the new claims' calls at the largest run's calls per new claim (times the same density growth),
    plus re-reading every cached score and rewriting the reports (the non-NLI time of a full run).
    """
    usable = [r for r in runs if r["first"].get("model_calls_cluster") is not None and r["first"]["nli_seconds"]]
    if len({r["claims"] for r in usable}) < 2:
        return None
    calls_c, calls_b = fit_power([(r["claims"], r["first"]["model_calls"] / r["claims"]) for r in usable])
    rss_base, rss_slope = fit_line([(r["claims"], r["first"]["peak_rss_mib"]) for r in usable])
    big = max(usable, key=lambda r: r["claims"])
    f = big["first"]
    rate = f["model_calls"] / f["nli_seconds"]
    other_per_claim = max(0.0, f["seconds"] - f["nli_seconds"]) / big["claims"]
    inc = big.get("incremental")
    out = {"fitted_on_claims": sorted(r["claims"] for r in usable), "calls_per_claim_exponent": round(calls_b, 3),
           "rss_mib_per_1000_claims": round(1000 * rss_slope, 1), "pairs_per_s": round(rate, 1), "rows": []}
    for n in sizes:
        calls = calls_c * n ** calls_b * n
        row = {"claims": n, "model_calls": round(calls), "nli_hours": round(calls / rate / 3600, 2),
               "other_hours": round(other_per_claim * n / 3600, 2), "peak_rss_mib": round(rss_base + rss_slope * n)}
        row["hours"] = round(row["nli_hours"] + row["other_hours"], 2)
        if inc and inc.get("claims_new"):
            growth = (n / big["claims"]) ** calls_b
            new_calls = inc["model_calls"] / inc["claims_new"] * add * growth
            other = max(0.0, inc["seconds"] - (inc["nli_seconds"] or 0.0)) / inc["claims"] * n
            row["incremental_model_calls"] = round(new_calls)
            row["incremental_minutes"] = round((new_calls / rate + other) / 60, 1)
        out["rows"].append(row)
    return out


def markdown(data: dict) -> str:
    runs = [r for _, r in sorted(data["runs"].items(), key=lambda kv: int(kv[0]))
            if r["first"].get("model_calls_cluster") is not None]
    lines = [BEGIN, "## NLI at corpus scale (`python -m benchmarks.nli_corpus`)", "",
             "Multi-outlet corpus from Reuters-21578, AG News test and BBC News (each source split into outlets "
             "by a hash of the article id); `index build`, then `contradictions --index` (empty NLI cache), the "
             "same again (every score from the cache), `index add` of about 10 % more articles, an incremental "
             "`contradictions --index` and a `--full` one on the same index; each command in its own process. "
             "Seconds of the contradictions run are split into the clustering judge (the `cluster` stage, "
             "same-claim NLI) and the contradiction stage; model calls are pairs the model itself scored "
             "(neither the in-run memo nor the SQLite cache answered them); \"both ways\" is what the judge "
             "would ask without its reverse cut. Peak RSS is the contradictions process's own.", "",
             "| claims | documents | load avg | index build s | contradictions s (judge / stage) | candidate pairs "
             "| model calls (judge / stage) | judge calls, cut / both ways | pairs/s | peak RSS MiB "
             "| rerun s (calls) | index add: claims, s | incremental s | incremental model calls | = `--full` |",
             "| ---: | ---: | ---: | ---: | --- | ---: | --- | --- | ---: | ---: | --- | --- | ---: | ---: | --- |"]
    for r in runs:
        f, s = r["first"], r["rerun"]
        inc = r.get("incremental") or {}
        judge_cut = (f["judge_forward"] or 0) + (f["judge_reverse"] or 0)
        added = (f"+{inc['claims_new']:,}, {r['index_add']['seconds']}" if inc.get("claims_new") is not None else "–")
        same = {True: "yes", False: "**no**"}.get(r.get("incremental_reports_identical"), "–")
        lines.append(
            f"| {r['claims']:,} | {sum(r['documents'].values()):,} | {r['load_average_before'][0]} "
            f"| {r['index_build']['seconds']} | {f['seconds']} ({f['cluster_seconds']} / {f['contradiction_stage_seconds']}) "
            f"| {_n(f['candidate_pairs'])} | {_n(f['model_calls'])} ({_n(f['model_calls_cluster'])} / "
            f"{_n(f['model_calls_contradictions'])}) | {judge_cut:,} / {2 * (f['judge_forward'] or 0):,} "
            f"| {f['pairs_per_s']} | {f['peak_rss_mib']} | {s['seconds']} ({_n(s['model_calls'])}) | {added} "
            f"| {_n(inc.get('seconds'))} | {_n(inc.get('model_calls'))} | {same} |")
    model = runs[-1]["first"]["nli_model"] if runs else "?"
    lines += ["", f"NLI model `{model}`; {runs[-1]['outlets'] if runs else '?'} outlets. Raw numbers (per-stage "
              "seconds, memo and cache hits, the `--full` run): `docs/nli_corpus.json`."]
    proj = projection(runs)
    if proj:
        data["projection"] = proj
        lines += ["", f"**Projection, not a measurement**, from the runs at {', '.join(f'{n:,}' for n in proj['fitted_on_claims'])} "
                  f"claims: model calls per claim grow as claims^{proj['calls_per_claim_exponent']}, peak RSS by "
                  f"{proj['rss_mib_per_1000_claims']} MiB per 1,000 claims; NLI at the largest run's "
                  f"{proj['pairs_per_s']} pairs/s, the rest at its seconds per claim.", "",
                  "| claims | model calls | NLI h | other h | contradictions h | peak RSS MiB "
                  "| incremental after +10,000 claims: model calls, minutes |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
        for row in proj["rows"]:
            inc = (f"{row['incremental_model_calls']:,}, {row['incremental_minutes']}"
                   if "incremental_model_calls" in row else "–")
            lines.append(f"| {row['claims']:,} | {row['model_calls']:,} | {row['nli_hours']} | {row['other_hours']} "
                         f"| {row['hours']} | {row['peak_rss_mib']:,} | {inc} |")
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
