"""Calibrate the NLI flag rules on development data only (never the test splits, never the seeds alone).

- Contradiction flag: how the two directions combine (forward, min, mean, max) and the threshold. Dev data:
  SNLI dev, MNLI matched dev, SICK trial (contradiction vs rest), pooled. For each rule the lowest
  threshold whose pooled dev precision reaches ``--precision`` (a flagged pair is read by a person, so
  precision comes first) and its recall; the rule with the highest recall there wins. The chosen rule is
  then checked on news-domain dev data (ARC stance train: disagree vs agree+discuss, claim against the
  body's best sentence; ClaimDiff train: weaken vs rest) by ROC-AUC, and a reliability table (observed
  contradiction rate per score bin) says how far a score can be trusted.
- Same claim (two-way entailment): min vs mean of both directions, threshold with the best F1 and the
  lowest with precision >= 0.80 on MRPC train + STS-B dev (gold >= 4 positive, <= 2 negative).

Results go to ``--out`` (JSON); docs/EVALUATION.md explains the chosen values.

    python -m benchmarks.calibrate_nli --data-dir ../shared/data [--model FOLDER] [--limit 3000]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks.eval_nli import best_sentence_scores
from benchmarks.metrics import (
    best_f1_threshold,
    classification_metrics,
    precision_threshold,
    reliability_table,
    roc_auc,
)
from benchmarks.results import emit, machine
from claimmatch.config import Settings
from claimmatch.nli import LABELS, load_model, predict_both_directions

ENT, CONTRA = LABELS.index("entailment"), LABELS.index("contradiction")
DEV_NLI = ["snli_dev", "mnli_dev_matched", "sick_trial"]
RULES = {
    "forward": lambda a, b: a,
    "min": np.minimum,
    "mean": lambda a, b: (a + b) / 2,
    "max": np.maximum,
}
SHIPPED_RULE = Settings().contradiction_rule  # the frame-clash grid is read for the rule the stage uses
EDGES = [0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0]


def contradiction_rules(model, data_dir: Path, limit: int, precision: float, batch_size: int) -> dict:
    ab_all, ba_all, gold_all, clash_all = [], [], [], []
    for name in DEV_NLI:
        rows = data.nli_eval(data_dir, name, limit)
        ab, ba = predict_both_directions(model, [(r["premise"], r["hypothesis"]) for r in rows], batch_size)
        ab_all.append(ab[:, CONTRA])
        ba_all.append(ba[:, CONTRA])
        gold_all.append(np.array([r["label"] == "contradiction" for r in rows]))
        clash_all.append(frames_clash([r["premise"] for r in rows], [r["hypothesis"] for r in rows]))
        print(f"scored {name}: {len(rows)} pairs", file=sys.stderr, flush=True)
    ab, ba, gold = np.concatenate(ab_all), np.concatenate(ba_all), np.concatenate(gold_all)
    clash = np.concatenate(clash_all)
    rules = {}
    for name, fn in RULES.items():
        score = fn(ab, ba)
        t = precision_threshold(score, gold, precision)
        rules[name] = {"roc_auc": roc_auc(score, gold), "threshold_at_precision": t,
                       "at_threshold": classification_metrics(score, gold, t) if t is not None else None}
    usable = {k: v for k, v in rules.items() if v["at_threshold"] is not None}
    chosen = max(usable, key=lambda k: (usable[k]["at_threshold"]["recall"], k)) if usable else "min"
    score = RULES[chosen](ab, ba)
    return {"dev_sets": DEV_NLI, "pairs": int(len(gold)), "target_precision": precision, "rules": rules,
            "chosen_rule": chosen, "chosen_threshold": rules[chosen]["threshold_at_precision"],
            "reliability_dev": reliability_table(score, gold, EDGES),
            "with_frame_clash": {"rule": SHIPPED_RULE,
                                 **clash_grid(RULES[SHIPPED_RULE](ab, ba), gold, clash, precision)}}


def frames_clash(premises: list[str], hypotheses: list[str]) -> np.ndarray:
    """Whether each pair's frames clash (claimmatch/judge.py ``frame_relation``), whole sentences read as
    the union of their claims' frames: the reason the NLI path asks for (``nli_flag_needs_clash``)."""
    from benchmarks.same_claim import sentence_frames
    from claimmatch.judge import frame_relation

    frames = sentence_frames(premises + hypotheses)
    n = len(premises)
    return np.array([frame_relation(frames[k], frames[n + k])[1] for k in range(n)], dtype=bool)


def clash_grid(score: np.ndarray, gold: np.ndarray, clash: np.ndarray, precision: float) -> dict:
    """The flag rule with a reason in the frames (score ≥ t and frames clash) on the grid of thresholds the
    setting takes (0.80 … 0.95): precision, recall and flags at each, and the lowest that reaches
    ``precision``; the rule without the clash beside it."""
    grid = {}
    reasoned = np.where(clash, score, -1.0)
    for t in (0.80, 0.85, 0.90, 0.95):
        grid[f"{t:.2f}"] = {"with_clash": classification_metrics(reasoned, gold, t),
                            "without": classification_metrics(score, gold, t),
                            "flags_with_clash": int((reasoned >= t).sum()), "flags_without": int((score >= t).sum())}
    ok = [t for t, v in grid.items() if (v["with_clash"]["precision"] or 0) >= precision]
    return {"pairs_whose_frames_clash": int(clash.sum()), "contradictions_among_them": int((clash & gold).sum()),
            "grid": grid, "lowest_threshold_at_precision": min(ok, key=float) if ok else None}


def news_dev(model, data_dir: Path, limit: int, batch_size: int) -> dict:
    arc = [r for r in data.pair_set(data_dir, "arc_stance")["train"]
           if r["label"] in ("agree", "disagree", "discuss")][: limit or None]
    scores = best_sentence_scores(model, [r["text_a"] for r in arc], [r["text_b"] for r in arc], batch_size)
    gold = np.array([r["label"] == "disagree" for r in arc])
    out = {"arc_train_disagree_auc": {k: roc_auc(v, gold) for k, v in scores.items()}, "arc_pairs": len(arc)}
    cd = data.pair_set(data_dir, "claimdiff")["train"][: limit or None]
    ab, ba = predict_both_directions(model, [(r["text_a"], r["text_b"]) for r in cd], batch_size)
    gold = np.array([r["label"] == "weaken" for r in cd])
    out["claimdiff_train_weaken_auc"] = {k: roc_auc(fn(ab[:, CONTRA], ba[:, CONTRA]), gold)
                                         for k, fn in RULES.items()}
    out["claimdiff_pairs"] = len(cd)
    return out


def entailment_rules(model, data_dir: Path, limit: int, batch_size: int) -> dict:
    pairs = [p for p in data.mrpc(data_dir)["train"] if data.calibration_holdout(p.s1, p.s2)][: limit or None]
    gold = [p.label == 1 for p in pairs]
    sts = [p for p in data.stsb(data_dir)["dev"] if p.label >= 4 or p.label <= 2][: limit or None]
    pairs += sts
    gold += [p.label >= 4 for p in sts]
    ab, ba = predict_both_directions(model, [(p.s1, p.s2) for p in pairs], batch_size)
    y = np.array(gold)
    out = {"dev_sets": ["mrpc train (held-out quarter)", "stsb dev (>=4 vs <=2)"], "pairs": len(pairs)}
    for name in ("min", "mean"):
        score = RULES[name](ab[:, ENT], ba[:, ENT])
        t_f1 = best_f1_threshold(score, y)
        t_p = precision_threshold(score, y, 0.80)
        out[name] = {"roc_auc": roc_auc(score, y), "f1_best": classification_metrics(score, y, t_f1),
                     "precision_0.80": classification_metrics(score, y, t_p) if t_p is not None else None}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    ap.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped model)")
    ap.add_argument("--limit", type=int, default=3000, help="rows per dev set (0: all)")
    ap.add_argument("--precision", type=float, default=0.85, help="dev precision a contradiction flag must reach")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--out", type=Path, default=Path("docs/nli_calibration.json"))
    args = ap.parse_args(argv)
    if not data.nli_eval_files(args.data_dir):
        print(f"error: no NLI eval files under {args.data_dir}/nli/eval; pass --data-dir", file=sys.stderr)
        return 2
    model = load_model(args.model)
    result = {"model": model.name, "limit": args.limit, "machine": machine(),
              "contradiction": contradiction_rules(model, args.data_dir, args.limit, args.precision, args.batch_size),
              "contradiction_news_dev": news_dev(model, args.data_dir, args.limit, args.batch_size),
              "same_claim": entailment_rules(model, args.data_dir, args.limit, args.batch_size)}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
