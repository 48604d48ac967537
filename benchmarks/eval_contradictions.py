"""Calibrate and score contradiction flagging.

(a) On the NLI eval sets: contradiction-vs-rest precision/recall/F1 of the shipped model for four ways
    of turning the two directions (p→h, h→p) into one score — forward only, mean, max, min — over a
    threshold grid. The F1-best threshold and aggregation are chosen on the dev files (SNLI dev, SICK
    trial, MNLI matched) and reported on the test files (SNLI test, SICK test, MNLI mismatched, ANLI),
    next to claimmatch's own setting (min rule, ``contradiction_threshold``).
(b) On the seeds: every flagged pair of ``claimmatch run seeds/`` is matched against the hand labels in
    tests/data/seed_contradictions.json; precision is reported and unlabelled pairs are listed.

    python -m benchmarks.eval_contradictions --data-dir ../shared/data --json docs/eval_contradictions.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks.metrics import prf
from benchmarks.results import emit
from claimmatch.nli import predict_both_directions, read_pairs

ROOT = Path(__file__).resolve().parent.parent

DEV = ["snli_dev", "sick_trial", "mnli_dev_matched"]
TEST = ["snli_test", "sick_test", "mnli_dev_mismatched", "anli_dev_r1", "anli_dev_r2", "anli_dev_r3"]
AGGREGATIONS = {
    "forward": lambda ab, ba: ab[:, 2],
    "mean": lambda ab, ba: (ab[:, 2] + ba[:, 2]) / 2,
    "max": lambda ab, ba: np.maximum(ab[:, 2], ba[:, 2]),
    "min": lambda ab, ba: np.minimum(ab[:, 2], ba[:, 2]),
}
GRID = [round(x, 2) for x in np.arange(0.3, 0.96, 0.05)]


def score_sets(model, data_dir: Path, names: list[str], limit: int) -> dict[str, tuple[np.ndarray, ...]]:
    out = {}
    for name in names:
        path = data_dir / "nli" / "eval" / f"{name}.jsonl"
        if not path.exists():
            print(f"skipping {path}: not found", file=sys.stderr)
            continue
        rows = read_pairs(path, limit)
        ab, ba = predict_both_directions(model, [(r["premise"], r["hypothesis"]) for r in rows])
        out[name] = (ab, ba, np.array([r["label"] == "contradiction" for r in rows]))
        print(f"scored {name}: {len(rows)} pairs", file=sys.stderr)
    return out


def part_a(model, data_dir: Path, limit: int) -> dict:
    dev = score_sets(model, data_dir, DEV, limit)
    test = score_sets(model, data_dir, TEST, limit)
    gold_dev = np.concatenate([g for _, _, g in dev.values()])
    best = None
    table = {}
    for agg, fn in AGGREGATIONS.items():
        score = np.concatenate([fn(ab, ba) for ab, ba, _ in dev.values()])
        rows = {t: prf(score >= t, gold_dev) for t in GRID}
        table[agg] = rows
        t_best = max(GRID, key=lambda t: (rows[t]["f1"], t))
        if best is None or rows[t_best]["f1"] > best[2]:
            best = (agg, t_best, rows[t_best]["f1"])
    agg, threshold, _ = best
    results = {name: prf(AGGREGATIONS[agg](ab, ba) >= threshold, g) for name, (ab, ba, g) in test.items()}
    per_agg_test = {a: {name: prf(fn(ab, ba) >= threshold, g)["f1"] for name, (ab, ba, g) in test.items()}
                    for a, fn in AGGREGATIONS.items()}
    from claimmatch.config import Settings

    shipped = Settings().contradiction_threshold  # claimmatch flags with the "min" rule at this threshold
    at_shipped = {name: prf(AGGREGATIONS["min"](ab, ba) >= shipped, g) for name, (ab, ba, g) in test.items()}
    dev_min = np.concatenate([AGGREGATIONS["min"](ab, ba) for ab, ba, _ in dev.values()])
    return {"dev_files": list(dev), "dev_f1_by_aggregation_and_threshold": table,
            "shipped": {"aggregation": "min", "threshold": shipped, "dev": prf(dev_min >= shipped, gold_dev),
                        "test": at_shipped},
            "chosen": {"aggregation": agg, "threshold": threshold},
            "test_at_chosen": results, "test_f1_by_aggregation_at_chosen_threshold": per_agg_test}


def part_b(labels_path: Path, model: Path | None = None, threshold: float | None = None) -> dict:
    import polars as pl

    from claimmatch.config import Settings
    from claimmatch.pipeline import run

    out = Path(tempfile.mkdtemp(prefix="claimmatch-seeds-"))
    settings = Settings(quiet=True, nli_model=str(model or ""))
    if threshold is not None:
        settings = replace(settings, contradiction_threshold=threshold)
    run([ROOT / "seeds"], out, settings)
    pairs = pl.read_parquet(out / "contradictions.parquet")
    labels = json.loads(labels_path.read_text(encoding="utf-8"))["pairs"] if labels_path.exists() else []

    def label_of(a: str, b: str) -> int | None:
        for sa, sb, y in labels:
            if (sa in a and sb in b) or (sa in b and sb in a):
                return y
        return None

    judged = []
    for r in pairs.iter_rows(named=True):
        judged.append({"p_contradiction": r["p_contradiction"], "label": label_of(r["text_a"], r["text_b"]),
                       "topic_id": r["topic_id"], "a": r["text_a"], "b": r["text_b"]})
    known = [j for j in judged if j["label"] is not None]
    tp = sum(j["label"] for j in known)
    return {"flagged": len(judged), "labelled": len(known), "true_contradictions": tp,
            "precision": round(tp / len(known), 4) if known else None,
            "unlabelled": [j for j in judged if j["label"] is None], "pairs": judged}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--limit", type=int, default=3000, help="rows per eval file (0 = all)")
    ap.add_argument("--labels", type=Path, default=ROOT / "tests" / "data" / "seed_contradictions.json")
    ap.add_argument("--part", choices=["a", "b", "ab"], default="ab")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=None, help="NLI model folder (default: the shipped model)")
    ap.add_argument("--threshold", type=float, default=None, help="seeds flag threshold (default: the setting)")
    args = ap.parse_args(argv)
    from claimmatch.nli import load_model

    result = {}
    if "a" in args.part:
        result["nli_eval"] = part_a(load_model(args.model), args.data_dir, args.limit)
    if "b" in args.part:
        result["seeds"] = part_b(args.labels, args.model, args.threshold)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
