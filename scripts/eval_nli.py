"""Evaluate claimmatch's NLI model on every file in DATA_DIR/nli/eval/.

Reports accuracy, per-class precision/recall/F1, the confusion matrix (rows gold, columns predicted),
contradiction-vs-rest precision/recall/F1 (what the contradiction finder relies on) and throughput.
Prints a Markdown table on stdout, writes the full numbers as JSON; progress goes to stderr.

    python scripts/eval_nli.py --data-dir ../shared/data --out docs/nli_eval.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree without install

from benchlib import cpu_name  # noqa: E402

from claimmatch.errors import ClaimmatchError  # noqa: E402
from claimmatch.nli import LABELS, load_model  # noqa: E402

CONTRA = LABELS.index("contradiction")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped model)")
    p.add_argument("--limit", type=int, default=0, help="first N rows of each file (0: all)")
    p.add_argument("--out", type=Path, default=Path("docs/nli_eval.json"), help="JSON report ('' to skip)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch default)")
    return p.parse_args(argv)


def read_rows(path: Path, limit: int = 0) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("label") not in LABELS:
                raise ClaimmatchError(f"{path}:{lineno}: label {row.get('label')!r} is not one of {LABELS}")
            rows.append(row)
            if limit and len(rows) >= limit:
                break
    return rows


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def metrics(gold: np.ndarray, pred: np.ndarray) -> dict:
    """Label-index arrays in, plain-JSON metrics out (no sklearn: it is only a dev dependency)."""
    k = len(LABELS)
    confusion = np.zeros((k, k), dtype=np.int64)
    np.add.at(confusion, (gold, pred), 1)
    per_class = {}
    for i, name in enumerate(LABELS):
        tp = int(confusion[i, i])
        per_class[name] = _prf(tp, int(confusion[:, i].sum()) - tp, int(confusion[i, :].sum()) - tp)
        per_class[name]["support"] = int(confusion[i, :].sum())
    # like sklearn: average over labels that occur in gold or predictions (matters with --limit)
    present = [name for i, name in enumerate(LABELS) if confusion[i, :].sum() or confusion[:, i].sum()]
    is_c, says_c = gold == CONTRA, pred == CONTRA
    return {
        "n": int(len(gold)),
        "accuracy": float((gold == pred).mean()) if len(gold) else 0.0,
        "macro_f1": float(np.mean([per_class[name]["f1"] for name in present])) if present else 0.0,
        "per_class": per_class,
        "confusion": confusion.tolist(),
        "contradiction_vs_rest": _prf(int((is_c & says_c).sum()), int((~is_c & says_c).sum()),
                                      int((is_c & ~says_c).sum())),
    }


def markdown_table(results: dict[str, dict]) -> str:
    head = ("| eval set | n | accuracy | macro F1 | F1 E | F1 N | F1 C | contra P | contra R | contra F1 "
            "| pairs/s |")
    lines = [head, "| --- " + "| ---: " * 10 + "|"]
    for name, r in results.items():
        pc, cr = r["per_class"], r["contradiction_vs_rest"]
        cells = [name, str(r["n"]), f"{r['accuracy']:.3f}", f"{r['macro_f1']:.3f}",
                 *(f"{pc[label]['f1']:.3f}" for label in LABELS),
                 f"{cr['precision']:.3f}", f"{cr['recall']:.3f}", f"{cr['f1']:.3f}",
                 f"{r['pairs_per_s']:.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict:
    import torch

    return {"cpu": cpu_name(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(), "platform": platform.platform()}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    eval_dir = args.data_dir / "nli" / "eval"
    files = sorted(eval_dir.glob("*.jsonl"))
    if not files:
        print(f"error: no *.jsonl files in {eval_dir}; pass --data-dir", file=sys.stderr)
        return 2
    try:
        model = load_model(args.model, threads=args.threads or None)
    except ClaimmatchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"model {model.name} from {model.path}", file=sys.stderr)
    model.predict([("Warm-up.", "Warm-up.")])
    results: dict[str, dict] = {}
    for n, path in enumerate(files, start=1):
        rows = read_rows(path, args.limit)
        t0 = time.perf_counter()
        probs = model.predict([(r["premise"], r["hypothesis"]) for r in rows], batch_size=args.batch_size)
        seconds = time.perf_counter() - t0
        gold = np.array([LABELS.index(r["label"]) for r in rows], dtype=np.int64)
        result = metrics(gold, probs.argmax(1))
        result.update(seconds=round(seconds, 2), pairs_per_s=len(rows) / seconds if seconds else 0.0)
        results[path.stem] = result
        print(f"[{n}/{len(files)}] {path.name}: {len(rows)} pairs, accuracy {result['accuracy']:.3f}, "
              f"{result['pairs_per_s']:.0f} pairs/s", file=sys.stderr, flush=True)
    total_pairs = sum(r["n"] for r in results.values())
    total_seconds = sum(r["seconds"] for r in results.values())
    report = {
        "model": {"name": model.name, "path": str(model.path), "weights_sha256": model.weights_sha256},
        "labels": list(LABELS), "confusion_axes": "rows gold, columns predicted, in labels order",
        "limit": args.limit, "batch_size": args.batch_size, "machine": machine(),
        "pairs_per_s_overall": total_pairs / total_seconds if total_seconds else 0.0,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "files": results,
    }
    print(markdown_table(results))
    print(f"\n{total_pairs} pairs in {total_seconds:.0f} s ({report['pairs_per_s_overall']:.0f} pairs/s, "
          f"{report['machine']['torch_threads']} threads, {report['machine']['cpu']})")
    if str(args.out) not in ("", "."):
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
