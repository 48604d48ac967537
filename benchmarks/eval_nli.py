"""Evaluate an NLI model through claimmatch's public API (``claimmatch.nli.load_model``).

Two parts, both written under one model key (``--key``, e.g. ``v4``) into ``--out`` so earlier models'
figures stay beside the new one:

- ``nli``: every file in DATA_DIR/nli/eval/: accuracy, macro F1, per-class P/R/F1, confusion matrix
  (rows gold, columns predicted), contradiction-vs-rest P/R/F1, pairs/s.
- ``claims``: the two judgements claimmatch makes with the model, on test splits:
  * same claim: two-way entailment (min of both directions) >= the shipped ``entailment_threshold``
    on MRPC test (F1, precision, recall; ROC-AUC of the score);
  * opposing claim: contradiction-vs-rest ROC-AUC on ARC stance test (disagree vs agree+discuss; the
    claim against the body's best-scoring sentence) and on ClaimDiff test (weaken vs rest), for the
    min/mean/max ways of combining the two directions.

    python -m benchmarks.eval_nli --data-dir ../shared/data --key v4 [--model FOLDER] [--parts nli,claims]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks.metrics import classification_metrics, multiclass_metrics, roc_auc
from benchmarks.results import emit, machine
from claimmatch.config import Settings
from claimmatch.errors import ClaimmatchError
from claimmatch.nli import LABELS, load_model, predict_both_directions
from claimmatch.segment import split_sentences

ENT, CONTRA = LABELS.index("entailment"), LABELS.index("contradiction")
COMBINE = {"min": np.minimum, "mean": lambda a, b: (a + b) / 2, "max": np.maximum}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped model)")
    p.add_argument("--key", default="shipped", help="name the results are stored under (e.g. v4)")
    p.add_argument("--parts", default="nli,claims", help="comma list of: nli, claims")
    p.add_argument("--sets", default="", help="comma list of NLI eval file stems (default: all)")
    p.add_argument("--limit", type=int, default=0, help="first N rows of each set (0: all)")
    p.add_argument("--out", type=Path, default=Path("docs/nli_eval.json"), help="JSON report ('' to skip)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    return p.parse_args(argv)


def eval_nli_sets(model, data_dir: Path, names: list[str], limit: int, batch_size: int) -> dict[str, dict]:
    results: dict[str, dict] = {}
    files = [f for f in data.nli_eval_files(data_dir) if not names or f.stem in names]
    for n, path in enumerate(files, start=1):
        rows = data.nli_rows(path, limit)
        t0 = time.perf_counter()
        probs = model.predict([(r["premise"], r["hypothesis"]) for r in rows], batch_size=batch_size)
        seconds = time.perf_counter() - t0
        gold = np.array([LABELS.index(r["label"]) for r in rows], dtype=np.int64)
        result = multiclass_metrics(gold, probs.argmax(1), LABELS, focus=CONTRA)
        result.update(seconds=round(seconds, 2), pairs_per_s=round(len(rows) / seconds, 1) if seconds else 0.0)
        results[path.stem] = result
        print(f"[{n}/{len(files)}] {path.name}: {len(rows)} pairs, accuracy {result['accuracy']:.3f}",
              file=sys.stderr, flush=True)
    return results


def best_sentence_scores(model, claims: list[str], bodies: list[str], batch_size: int) -> dict[str, np.ndarray]:
    """Per (claim, body): for each combination rule, the highest contradiction score over body sentences."""
    pairs, owner = [], []
    for k, (claim, body) in enumerate(zip(claims, bodies, strict=True)):
        sents = [body[a:b] for a, b in split_sentences(body)] or [body]
        for s in sents[:30]:
            pairs.append((s, claim))
            owner.append(k)
    ab, ba = predict_both_directions(model, pairs, batch_size)
    owner_arr = np.asarray(owner)
    out = {}
    for name, fn in COMBINE.items():
        score = fn(ab[:, CONTRA], ba[:, CONTRA])
        best = np.full(len(claims), -1.0)
        np.maximum.at(best, owner_arr, score)
        out[name] = best
    return out


def eval_claims(model, data_dir: Path, limit: int, batch_size: int) -> dict:
    settings = Settings()
    out: dict = {}
    mrpc = data.mrpc(data_dir)["test"][: limit or None]
    ab, ba = predict_both_directions(model, [(p.s1, p.s2) for p in mrpc], batch_size)
    gold = np.array([p.label == 1 for p in mrpc])
    ent = np.minimum(ab[:, ENT], ba[:, ENT])
    out["mrpc_test_two_way_entailment"] = {
        "rule": f"min(entailment a->b, b->a) >= {settings.entailment_threshold}",
        **classification_metrics(ent, gold, settings.entailment_threshold), "roc_auc": roc_auc(ent, gold)}
    print(f"MRPC test: F1 {out['mrpc_test_two_way_entailment']['f1']:.3f}", file=sys.stderr, flush=True)

    arc = [r for r in data.pair_set(data_dir, "arc_stance")["test"] if r["label"] in ("agree", "disagree", "discuss")]
    arc = arc[: limit or None]
    scores = best_sentence_scores(model, [r["text_a"] for r in arc], [r["text_b"] for r in arc], batch_size)
    gold = np.array([r["label"] == "disagree" for r in arc])
    out["arc_test_disagree_vs_agree_discuss"] = {
        "n": len(arc), "positives": int(gold.sum()),
        "roc_auc": {name: roc_auc(s, gold) for name, s in scores.items()}}
    print(f"ARC test: AUC {out['arc_test_disagree_vs_agree_discuss']['roc_auc']}", file=sys.stderr, flush=True)

    cd = data.pair_set(data_dir, "claimdiff")["test"][: limit or None]
    ab, ba = predict_both_directions(model, [(r["text_a"], r["text_b"]) for r in cd], batch_size)
    gold = np.array([r["label"] == "weaken" for r in cd])
    out["claimdiff_test_weaken_vs_rest"] = {
        "n": len(cd), "positives": int(gold.sum()),
        "roc_auc": {name: roc_auc(fn(ab[:, CONTRA], ba[:, CONTRA]), gold) for name, fn in COMBINE.items()}}
    print(f"ClaimDiff test: AUC {out['claimdiff_test_weaken_vs_rest']['roc_auc']}", file=sys.stderr, flush=True)
    return out


def markdown_table(results: dict[str, dict]) -> str:
    lines = ["| eval set | n | accuracy | macro F1 | contra P | contra R | contra F1 | pairs/s |",
             "| --- " + "| ---: " * 7 + "|"]
    for name, r in results.items():
        cr = r["contradiction_vs_rest"]
        lines.append(f"| {name} | {r['n']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | {cr['precision']:.3f} "
                     f"| {cr['recall']:.3f} | {cr['f1']:.3f} | {r['pairs_per_s']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    if not data.nli_eval_files(args.data_dir):
        print(f"error: no NLI eval files under {args.data_dir}/nli/eval; pass --data-dir", file=sys.stderr)
        return 2
    try:
        model = load_model(args.model, threads=args.threads or None)
    except ClaimmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"model {model.name} from {model.path}", file=sys.stderr)
    entry: dict = {"model": {"name": model.name, "weights_sha256": model.weights_sha256},
                   "limit": args.limit, "batch_size": args.batch_size, "machine": machine(),
                   "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if "nli" in parts:
        names = [s for s in args.sets.split(",") if s]
        entry["files"] = eval_nli_sets(model, args.data_dir, names, args.limit, args.batch_size)
        print(markdown_table(entry["files"]))
    if "claims" in parts:
        entry["claims"] = eval_claims(model, args.data_dir, args.limit, args.batch_size)
    report: dict = {"labels": list(LABELS), "confusion_axes": "rows gold, columns predicted", "models": {}}
    if str(args.out) not in ("", ".") and args.out.exists():
        old = json.loads(args.out.read_text(encoding="utf-8"))
        report["models"] = old.get("models", {})
    previous = report["models"].get(args.key, {})
    # a partial rerun (other --parts or --sets) keeps the figures it did not recompute
    files = {**previous.get("files", {}), **entry.get("files", {})}
    report["models"][args.key] = {**previous, **entry, **({"files": dict(sorted(files.items()))} if files else {})}
    emit(report if str(args.out) not in ("", ".") else entry, args.out if str(args.out) not in ("", ".") else None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
