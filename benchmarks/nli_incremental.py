"""Incremental ``contradictions --index`` after ``index add``: what its time scales with, code against code.

Builds the multi-outlet corpus of :mod:`benchmarks.nli_corpus` (Reuters-21578, AG News test, BBC News,
``--docs-per-source`` articles each, plus ``--add-fraction`` more for the add step), builds the index and
runs ``contradictions --index`` once with an empty NLI cache (this tree's code), then keeps the built
index and the warm cache as a snapshot. For each code tree (``--baseline DIR``, e.g. an exported older
commit, then this tree), starting from that snapshot, each command in its own process:

1. ``contradictions --index bench`` (every pair in the cache: only builds that code's stored results);
2. ``index add more.jsonl``;
3. ``contradictions --index bench``, the *incremental run*: the new claims' pairs are not in the cache,
   so its model calls are real; seconds, model calls, peak RSS and per-step seconds from run.json;
4. the same incremental run again from the index as it was after step 2, now with every pair in the
   cache: the *warm incremental run*, all of whose time is work other than the model;
5. ``contradictions --index bench --full``, whose reports must be byte-identical to both.

The warm run's per-step seconds, at two or more corpus sizes, say which steps grow with the index and
which with the new claims. Results are merged by corpus size into ``docs/nli_incremental.json`` and the
"Incremental runs" section of ``docs/BENCHMARKS.md``, with a projection to 1M claims + 10k new.

    python -m benchmarks.nli_incremental --docs-per-source 150 --baseline /tmp/base   # ~4.8k claims
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import data, results
from benchmarks.nli_corpus import _CHILD, ROOT, build_corpus
from benchmarks.results import log, replace_section

BEGIN, END = "<!-- nli_incremental:begin -->", "<!-- nli_incremental:end -->"
REPORTS = ("claims.parquet", "clusters.parquet", "clusters.md", "contradictions.parquet", "contradictions.md")
# Steps of run.json's timings_s, grouped for the table (the rest is "other": imports, model load, reports).
STEPS = {"load": ("load_index", "load_stored"), "retrieve": ("cluster_retrieve",),
         "judge": ("cluster_judge",), "group": ("cluster_group", "cluster_summarize"),
         "candidates": ("contradictions_candidates",), "nli": ("contradictions_nli",),
         "who_did_it": ("contradictions_who_did_it",), "topics": ("contradictions_topics",),
         "report": ("report", "save_stored")}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    p.add_argument("--docs-per-source", type=int, default=150, help="articles taken from each source")
    p.add_argument("--outlets-per-source", type=int, default=10)
    p.add_argument("--add-fraction", type=float, default=0.1, help="articles added, as a fraction of the first")
    p.add_argument("--baseline", type=Path, default=None,
                   help="another code tree (e.g. `git archive COMMIT | tar -x -C DIR`) measured the same way first")
    p.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/claimmatch-nli-incremental"))
    p.add_argument("--repeat", type=int, default=3, help="warm incremental runs per code tree (median reported)")
    p.add_argument("--render", action="store_true", help="only rewrite the Markdown section from --json")
    p.add_argument("--reuse", action="store_true",
                   help="keep a snapshot (index, warm cache) already in --workdir instead of building it again")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "nli_incremental.json")
    p.add_argument("--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md",
                   help="file whose 'Incremental runs' section is replaced ('-': print it instead)")
    return p.parse_args(argv)


def environment(code: Path, cache: Path, indexes: Path, nli_model: str | None) -> dict:
    env = {**os.environ, "CLAIMMATCH_CACHE_DIR": str(cache), "CLAIMMATCH_INDEX_DIR": str(indexes),
           "PYTHONPATH": str(code)}
    if nli_model:
        env["CLAIMMATCH_NLI_MODEL"] = str(Path(nli_model).resolve())
    return env


def run_cli(args: list[str], env: dict, workdir: Path) -> dict:
    """One CLI command in its own process, started in its code tree (``python -c`` puts the working
    folder first on sys.path): wall time and that process's peak RSS (Linux: KiB)."""
    rss_file = workdir / "rss.txt"
    rss_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], env={**env, "NLI_CORPUS_RSS_FILE": str(rss_file)},
                          capture_output=True, text=True, cwd=env["PYTHONPATH"])
    seconds = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"claimmatch {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr.strip()}")
    peak = round(int(rss_file.read_text()) / 1024, 1) if rss_file.exists() else None
    return {"seconds": round(seconds, 1), "peak_rss_mib": peak}


def contradictions(out: Path, env: dict, workdir: Path, extra: tuple[str, ...] = ()) -> dict:
    """One ``contradictions --index bench`` process: seconds, peak RSS, model calls, per-step seconds."""
    res = run_cli(["contradictions", "--index", "bench", "--out", str(out), "--quiet", *extra], env, workdir)
    info = json.loads((out / "run.json").read_text(encoding="utf-8"))
    timings = info.get("timings_s") or {}
    steps = {name: round(sum(timings.get(k, 0.0) for k in keys), 3) for name, keys in STEPS.items()}
    # code without the per-step timings (the baseline) has only its stages' totals
    stages = {"cluster": timings.get("cluster", 0.0), "contradictions": timings.get("contradictions", 0.0),
              "load": steps["load"], "report": steps["report"]}
    steps["other"] = round(max(0.0, res["seconds"] - sum(stages.values())), 1)
    steps["cluster"], steps["contradictions"] = stages["cluster"], stages["contradictions"]
    counts, nli = info["counts"], info.get("nli") or {}
    return {"seconds": res["seconds"], "peak_rss_mib": res["peak_rss_mib"], "model_calls": nli.get("calls"),
            "nli_seconds": nli.get("seconds"), "claims": counts.get("claims"), "claims_new": counts.get("claims_new"),
            "candidate_pairs": counts.get("candidate_pairs"),
            "judge_verdicts_reused": counts.get("judge_verdicts_reused"),
            "nli_pairs_reused": counts.get("nli_pairs_reused"), "steps": steps, "timings_s": timings}


def same_reports(a: Path, b: Path) -> bool:
    return all((a / f).read_bytes() == (b / f).read_bytes() for f in REPORTS)


def snapshot(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    """The built index (no stored results) and the cache after a cold first run, built unless reused."""
    w = args.workdir
    built, cache, more = w / "snap-built-indexes", w / "snap-cache", w / "more.jsonl"
    if args.reuse and built.exists() and cache.exists() and more.exists():
        return built, cache, more
    if w.exists():
        shutil.rmtree(w)
    w.mkdir(parents=True)
    n_add = math.ceil(args.docs_per_source * args.add_fraction)
    build_corpus(args.data_dir, args.docs_per_source, args.outlets_per_source, w / "corpus.jsonl", n_add, more)
    env = environment(ROOT, w / "cache", w / "indexes", args.nli_model)
    log("index build")
    run_cli(["index", "build", str(w / "corpus.jsonl"), "--index", "bench", "--quiet"], env, w)
    shutil.copytree(w / "indexes", built)
    log("first contradictions run, empty NLI cache")
    contradictions(w / "out-first", env, w)
    shutil.copytree(w / "cache", cache)
    shutil.rmtree(w / "indexes")
    return built, cache, more


def measure(code: Path, label: str, built: Path, cache: Path, more: Path, args: argparse.Namespace) -> dict:
    run = args.workdir / f"run-{label}"
    if run.exists():
        shutil.rmtree(run)
    run.mkdir()
    shutil.copytree(built, run / "indexes")
    shutil.copytree(cache, run / "cache")
    env = environment(code, run / "cache", run / "indexes", args.nli_model)
    log(f"{label}: first run (warm cache), index add")
    contradictions(run / "out-first", env, run)
    add = run_cli(["index", "add", str(more), "--index", "bench", "--quiet"], env, run)
    shutil.copytree(run / "indexes", run / "after-add")
    log(f"{label}: incremental run")
    inc = contradictions(run / "out-inc", env, run)
    warms = []
    for k in range(args.repeat):
        log(f"{label}: incremental run, warm cache ({k + 1} of {args.repeat})")
        shutil.rmtree(run / "indexes")
        shutil.copytree(run / "after-add", run / "indexes")
        warms.append(contradictions(run / "out-warm", env, run))
    warm = dict(min(warms, key=lambda w: w["seconds"]))  # replaced by the medians below, step by step
    warm["seconds"] = statistics.median(w["seconds"] for w in warms)
    warm["steps"] = {k: round(statistics.median(w["steps"][k] for w in warms), 3) for k in warms[0]["steps"]}
    warm["all_seconds"] = [w["seconds"] for w in warms]
    log(f"{label}: --full run")
    full = contradictions(run / "out-full", env, run, ("--full",))
    same = same_reports(run / "out-inc", run / "out-full") and same_reports(run / "out-warm", run / "out-full")
    return {"code": str(code), "index_add_seconds": add["seconds"], "incremental": inc, "warm_incremental": warm,
            "full": full, "identical_to_full": same}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.workdir = args.workdir.resolve()  # commands run in their code tree's folder
    if args.render:
        write(json.loads(args.json.read_text(encoding="utf-8")), args)
        return 0
    built, cache, more = snapshot(args)
    load_before = [round(x, 2) for x in os.getloadavg()]
    codes = ([("baseline", args.baseline.resolve())] if args.baseline else []) + [("this", ROOT)]
    runs = {label: measure(code, label, built, cache, more, args) for label, code in codes}
    this = runs["this"]
    result = {"date": datetime.now(UTC).replace(microsecond=0).isoformat(), "cpu": results.cpu_name(),
              "cpu_cores": os.cpu_count(), "load_average_before": load_before,
              "load_average_after": [round(x, 2) for x in os.getloadavg()],
              "claims": this["incremental"]["claims"], "claims_new": this["incremental"]["claims_new"], "runs": runs}
    path = args.json
    stored = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"sizes": {}}
    stored["sizes"][str(result["claims"])] = result
    write(stored, args)
    return 0 if all(r["identical_to_full"] for r in runs.values()) else 1


def write(stored: dict, args: argparse.Namespace) -> None:
    """The JSON (with the projection) and the Markdown section, from every size measured so far."""
    md = markdown(stored)
    results.emit(stored, args.json)
    if str(args.markdown) == "-":
        print(md)
    else:
        replace_section(args.markdown, md, BEGIN, END)


# Steps whose work is the new claims' (their pairs judged); every other timed step passes over the index.
NEW_CLAIM_STEPS = ("judge",)


def projection(sizes: list[dict], claims: int = 1_000_000, new: int = 10_000) -> dict | None:
    """This code's incremental run at ``claims`` + ``new``, from its largest measured run: each warm step at
    that run's seconds per index claim (per new claim for :data:`NEW_CLAIM_STEPS`), the fixed rest as
    measured, and the model calls of ``new`` claims at that run's calls per new claim and pairs/s. Linear
    on purpose: two small sizes cannot fit exponents (the flat FAISS search of those sizes grows with the
    square of the index, the IVF index of large ones does not). A projection, not a measurement."""
    usable = [s for s in sizes if "this" in s["runs"]]
    if not usable:
        return None
    big = max(usable, key=lambda s: s["claims"])["runs"]["this"]
    warm, inc = big["warm_incremental"], big["incremental"]
    steps = {}
    for name in STEPS:
        per = inc["claims_new"] if name in NEW_CLAIM_STEPS else warm["claims"]
        steps[name] = round(warm["steps"][name] / per * (new if name in NEW_CLAIM_STEPS else claims), 1)
    steps["other"] = warm["steps"]["other"]
    calls = inc["model_calls"] / inc["claims_new"] * new
    rate = inc["model_calls"] / inc["nli_seconds"] if inc["nli_seconds"] else None
    out = {"claims": claims, "new": new, "from_claims": warm["claims"], "steps_s": steps, "model_calls": round(calls),
           "pairs_per_s": round(rate, 1) if rate else None}
    out["nli_s"] = round(calls / rate, 1) if rate else None
    out["total_minutes"] = round((sum(steps.values()) + (out["nli_s"] or 0.0)) / 60, 1)
    return out


def markdown(stored: dict) -> str:
    sizes = [s for _, s in sorted(stored["sizes"].items(), key=lambda kv: int(kv[0]))]
    lines = [BEGIN, "### Incremental runs: what scales with the index (`python -m benchmarks.nli_incremental`)", "",
             "After `index add` of about 10 % more articles: the incremental `contradictions --index` run "
             "(new pairs not in the NLI cache: real model calls), the same run with every pair cached (\"warm\": "
             "all of its time is work other than the model, split by step from run.json) and a `--full` run, "
             "whose reports were byte-identical to both in every row (\"= --full\"). Each command in its own "
             "process; *baseline* is the code before this change, *this* the code with stored verdicts.", "",
             "| claims (+new) | code | load avg | incremental s | model calls | peak RSS MiB | warm s "
             "| warm: clustering s (retrieve / judge / group) | warm: contradiction stage s (candidates / nli / "
             "who-did-it / topics) | warm: load + report s | warm: other s | = --full |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |"]
    for s in sizes:
        for label, r in s["runs"].items():
            inc, warm = r["incremental"], r["warm_incremental"]
            st = warm["steps"]
            split = st["retrieve"] or st["judge"]
            cluster = (f"{st['cluster']} ({st['retrieve']} / {st['judge']} / {st['group']})" if split
                       else f"{st['cluster']}")
            stage = (f"{st['contradictions']} ({st['candidates']} / {st['nli']} / {st['who_did_it']} / "
                     f"{st['topics']})" if split else f"{st['contradictions']}")
            lines.append(
                f"| {s['claims']:,} (+{s['claims_new']:,}) | {label} | {s['load_average_before'][0]} "
                f"| {inc['seconds']} | {inc['model_calls']:,} | {inc['peak_rss_mib']} | {warm['seconds']} "
                f"| {cluster} | {stage} | {round(st['load'] + st['report'], 3)} | {st['other']} "
                f"| {'yes' if r['identical_to_full'] else '**no**'} |")
    proj = projection(sizes)
    if proj:
        stored["projection"] = proj
        st = proj["steps_s"]
        parts = ", ".join(f"{k} {v} s" for k, v in st.items())
        lines += ["", f"**Projection, not a measurement** (this code, linear from the {proj['from_claims']:,}-claim "
                  f"run: each warm step at its seconds per index claim, the judge at its seconds per new claim, "
                  f"the fixed rest as measured; model calls at that run's calls per new claim and "
                  f"{proj['pairs_per_s']} pairs/s): {proj['claims']:,} claims + {proj['new']:,} new: "
                  f"{proj['model_calls']:,} model calls ({proj['nli_s']} s of NLI); {parts}; about "
                  f"{proj['total_minutes']} minutes in all."]
    lines.append(END)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
