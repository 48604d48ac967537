"""NLI inference variants: accuracy and CPU throughput of each precision, against fp32, in one run.

For every value of ``Settings.nli_precision`` (fp32, bf16, int8, onnx, onnx-int8) this measures
accuracy on SICK test, SNLI test and the MNLI mismatched subset (``<data-dir>/nli/eval/``), and pairs/s
on a fixed mix of those pairs, passes interleaved so that background load hits every variant alike
(median and best pass, and the ratio to fp32 of the medians). A variant may become the default only if
it loses less than 0.5 accuracy point on each of the three sets.

    python -m benchmarks.nli_speed --data-dir ../shared/data            # shipped model, ~5 min on 2 cores
    python -m benchmarks.nli_speed --model runs/nli-v4/export --limit 0 # another model, full sets

Writes ``docs/nli_speed.json`` and the "NLI inference variants" section of ``docs/BENCHMARKS.md``
(replaced on each run); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import data, results
from benchmarks.results import log, replace_section
from claimmatch.config import NLI_PRECISIONS, Settings
from claimmatch.nli import LABELS, load_model

SETS = {"SICK test": "sick_test", "SNLI test": "snli_test", "MNLI-mm subset": "mnli_dev_mismatched"}
MAX_LOSS_POINTS = 0.5  # the budget for a faster default (issue 15)
BEGIN, END = "<!-- nli_speed:begin -->", "<!-- nli_speed:end -->"
ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped model)")
    p.add_argument("--variants", default=",".join(NLI_PRECISIONS), help="comma-separated precisions")
    p.add_argument("--limit", type=int, default=2000,
                   help="rows per evaluation set, spread evenly over the file (0: all rows)")
    p.add_argument("--speed-pairs", type=int, default=1200, help="pairs per timed pass")
    p.add_argument("--passes", type=int, default=5, help="timed passes per variant (median and best reported)")
    p.add_argument("--threads", type=int, default=2, help="CPU threads per variant (torch and ONNX Runtime)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--cache-dir", type=Path, default=None, help="where ONNX exports are kept (default: the "
                   "claimmatch cache folder)")
    p.add_argument("--json", type=Path, default=ROOT / "docs" / "nli_speed.json")
    p.add_argument("--markdown", type=Path, default=ROOT / "docs" / "BENCHMARKS.md",
                   help="file whose 'NLI inference variants' section is replaced ('-': print it instead)")
    return p.parse_args(argv)


def spread(rows: list, limit: int) -> list:
    """``limit`` rows evenly spaced over the file (files are ordered by source, so a prefix is biased)."""
    if not limit or limit >= len(rows):
        return rows
    idx = np.linspace(0, len(rows) - 1, limit).round().astype(int)
    return [rows[i] for i in idx]


def load_sets(data_dir: Path, limit: int) -> dict[str, tuple[list[tuple[str, str]], np.ndarray]]:
    out = {}
    for name, file in SETS.items():
        rows = spread(data.nli_eval(data_dir, file), limit)
        out[name] = ([(r["premise"], r["hypothesis"]) for r in rows],
                     np.array([LABELS.index(r["label"]) for r in rows]))
    return out


def speed_mix(sets: dict, n: int) -> list[tuple[str, str]]:
    """Equal shares of each set, interleaved: the timed input has every set's length profile."""
    per = -(-n // len(sets))
    parts = [spread(pairs, per) for pairs, _ in sets.values()]
    return [p for group in zip(*parts, strict=False) for p in group][:n]


def machine(threads: int) -> dict:
    try:
        import onnxruntime

        ort = onnxruntime.__version__
    except ImportError:
        ort = None
    return {**results.machine(), "threads": threads, "onnxruntime": ort,
            "load_average_before": [round(x, 2) for x in os.getloadavg()]}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch
    from sklearn.metrics import accuracy_score

    torch.set_num_threads(args.threads)
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    if "fp32" not in variants:
        variants.insert(0, "fp32")  # everything is compared with it
    unknown = [v for v in variants if v not in NLI_PRECISIONS]
    if unknown:
        log(f"error: unknown variants {unknown}; choose from {', '.join(NLI_PRECISIONS)}")
        return 2
    info = machine(args.threads)
    cache_dir = args.cache_dir or Settings().resolved_cache_dir()
    sets = load_sets(args.data_dir, args.limit)
    models = {}
    for v in variants:
        t0 = time.perf_counter()
        models[v] = load_model(args.model, precision=v, cache_dir=cache_dir)
        log(f"loaded {models[v].name} in {time.perf_counter() - t0:.1f} s")
    result: dict = {"machine": info, "model": models["fp32"].name, "limit_per_set": args.limit,
                    "sets": {name: len(gold) for name, (_, gold) in sets.items()}, "variants": {}}

    probs: dict[str, dict[str, np.ndarray]] = {v: {} for v in variants}
    for v in variants:
        row = result["variants"][v] = {"accuracy": {}, "loss_points": {}, "same_label_as_fp32": {}}
        for name, (pairs, gold) in sets.items():
            t0 = time.perf_counter()
            probs[v][name] = models[v].predict(pairs, batch_size=args.batch_size)
            row["accuracy"][name] = round(float(accuracy_score(gold, probs[v][name].argmax(1))), 4)
            log(f"{v:>9} {name}: accuracy {row['accuracy'][name]:.4f} ({time.perf_counter() - t0:.0f} s)")
    for v in variants:
        row = result["variants"][v]
        for name in sets:
            row["loss_points"][name] = round(100 * (result["variants"]["fp32"]["accuracy"][name]
                                                    - row["accuracy"][name]), 2) + 0.0  # no "-0.0"
            row["same_label_as_fp32"][name] = round(float(
                (probs[v][name].argmax(1) == probs["fp32"][name].argmax(1)).mean()), 4)
        row["max_abs_prob_diff"] = round(float(max(np.abs(probs[v][n] - probs["fp32"][n]).max() for n in sets)), 4)

    mix = speed_mix(sets, args.speed_pairs)
    for m in models.values():
        m.predict(mix[:args.batch_size * 2], batch_size=args.batch_size)  # warm-up: allocator, kernels
    rates: dict[str, list[float]] = {v: [] for v in variants}
    for k in range(args.passes):
        for v in variants:
            t0 = time.perf_counter()
            models[v].predict(mix, batch_size=args.batch_size)
            rates[v].append(len(mix) / (time.perf_counter() - t0))
        log(f"pass {k + 1}/{args.passes}: " + ", ".join(f"{v} {r[-1]:.0f}" for v, r in rates.items()))
    base = statistics.median(rates["fp32"])
    for v in variants:
        med = statistics.median(rates[v])
        result["variants"][v].update({"pairs_per_s_median": round(med, 1), "pairs_per_s_best": round(max(rates[v]), 1),
                                      "ratio_to_fp32": round(med / base, 2),
                                      "passes": [round(r, 1) for r in rates[v]]})
    info["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["speed_pairs"] = len(mix)
    result["mean_tokens"] = round(float(np.mean([len(x) for x in models["fp32"].tokenizer(
        [p for p, _ in mix], [h for _, h in mix], truncation=True, max_length=256)["input_ids"]])), 1)
    eligible = [v for v in variants
                if all(x < MAX_LOSS_POINTS for x in result["variants"][v]["loss_points"].values())]
    result["fastest_within_budget"] = max(eligible, key=lambda v: result["variants"][v]["pairs_per_s_median"])
    result["shipped_default"] = Settings().nli_precision

    results.emit(result, args.json)
    md = markdown(result, args)
    if str(args.markdown) == "-":
        print(md)
    else:
        replace_section(args.markdown, md, BEGIN, END)
    log(f"fastest variant within {MAX_LOSS_POINTS} point on every set: {result['fastest_within_budget']}; "
         f"wrote {args.json}")
    return 0


def markdown(r: dict, args: argparse.Namespace) -> str:
    m = r["machine"]
    sets = list(r["sets"])
    head = ("| variant | pairs/s (median) | best pass | × fp32 | "
            + " | ".join(f"{s} acc (Δ points)" for s in sets) + " | same label as fp32 |")
    lines = [BEGIN, "## NLI inference variants (`python -m benchmarks.nli_speed`)", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['threads']} threads, load average "
             f"{m['load_average_before'][0]} before and {m['load_average_after'][0]} after (shared with other "
             f"jobs); torch {m['torch']}, ONNX Runtime {m['onnxruntime']}, {m['date']}.  ",
             f"Model: `{r['model']}`. Accuracy on " + ", ".join(f"{s} ({n:,} rows)" for s, n in r["sets"].items())
             + (" (rows spread evenly over each file)" if r["limit_per_set"] else "")
             + f"; speed on {r['speed_pairs']:,} pairs mixed from the three ({r['mean_tokens']} tokens on average), "
             f"batch {args.batch_size}, {args.passes} interleaved passes after a warm-up.", "",
             head, "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in sets) + " | ---: |"]
    for v, row in r["variants"].items():
        accs = " | ".join(f"{row['accuracy'][s]:.4f} ({0.0 - row['loss_points'][s]:+.2f})" for s in sets)
        same = min(row["same_label_as_fp32"].values())
        lines.append(f"| {v} | {row['pairs_per_s_median']:.0f} | {row['pairs_per_s_best']:.0f} | "
                     f"{row['ratio_to_fp32']:.2f}× | {accs} | ≥ {same:.1%} |")
    lines += ["", f"Fastest variant losing under {MAX_LOSS_POINTS} point on every set: "
              f"**{r['fastest_within_budget']}**; the shipped default (`Settings.nli_precision`) is "
              f"**{r['shipped_default']}**. Raw numbers: `docs/nli_speed.json`.", END]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
