"""CPU throughput of the NLI model: fp32 (from the shipped fp16 weights) vs dynamic int8.

Answers "ship fp16 safetensors or int8, whichever is faster on CPU at equal accuracy": each variant
scores the same 2,000 short pairs (1,000 SICK test + 1,000 SNLI test, news-sentence length) through
the same length-sorted batching, and SICK test accuracy is measured for each. The ONNX Runtime
variants run only when ``onnx`` and ``onnxruntime`` are importable (they are not dependencies):

    pip install --target /tmp/onnx_pkgs onnx onnxruntime
    PYTHONPATH=/tmp/onnx_pkgs python -m benchmarks.bench_nli --data-dir ../shared/data

Prints a Markdown section for docs/BENCHMARKS.md; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from benchmarks.results import cpu_name
from claimmatch.nli import LABELS, WEIGHTS_FILE, NLIModel, load_model, read_pairs

EQUAL_ACCURACY = 0.005  # an int8 variant counts as "equal accuracy" within half a point on SICK test


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    p.add_argument("--model", type=Path, default=None, help="model folder (default: the shipped model)")
    p.add_argument("--pairs", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="timed passes per variant; the median is reported")
    p.add_argument("--accuracy-limit", type=int, default=0, help="first N SICK test rows (0: all)")
    p.add_argument("--no-onnx", action="store_true", help="skip ONNX Runtime even when installed")
    p.add_argument("--out", type=Path, default=None, help="also write the numbers as JSON")
    return p.parse_args(argv)


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def detokenize(text: str) -> str:
    """SNLI eval text is tokenized ("packages ."); undo the obvious part so pairs read like prose."""
    text = re.sub(r" ([.,!?;:%)])", r"\1", text)
    return re.sub(r"\( ", "(", text).replace(" n't", "n't").replace(" 's", "'s")


def bench_pairs(data_dir: Path, n: int) -> list[tuple[str, str]]:
    eval_dir = data_dir / "nli" / "eval"
    half = n // 2
    sick = read_pairs(eval_dir / "sick_test.jsonl", half)
    snli = read_pairs(eval_dir / "snli_test.jsonl", n - half)
    return ([(r["premise"], r["hypothesis"]) for r in sick]
            + [(detokenize(r["premise"]), detokenize(r["hypothesis"])) for r in snli])


class _OrtLogits:
    """Makes an ONNX Runtime session look like the HF model to NLIModel.predict (same batching)."""

    def __init__(self, session) -> None:
        self.session = session
        self.input_names = {i.name for i in session.get_inputs()}

    def __call__(self, **inputs):
        import torch

        feeds = {k: v.cpu().numpy() for k, v in inputs.items() if k in self.input_names}
        return SimpleNamespace(logits=torch.from_numpy(self.session.run(["logits"], feeds)[0]))


def onnx_variants(base: NLIModel, workdir: Path, threads: int) -> dict[str, tuple[NLIModel, int]]:
    """Export fp32 ONNX, quantize its weights to int8 (dynamic) two ways, open each with ONNX Runtime.

    The default quantizes every MatMul and the embedding Gather per tensor (smallest file); the
    per-channel MatMul-only variant keeps embeddings in fp32, trading file size for accuracy.
    """
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LogitsOnly(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).logits

    fp32_path, int8_path = workdir / "model.onnx", workdir / "model.int8.onnx"
    int8_pc_path = workdir / "model.int8-matmul-per-channel.onnx"
    enc = base.tokenizer(["A man is playing a guitar."] * 2, ["Nobody is playing a guitar."] * 2,
                         return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {name: {0: "batch", 1: "sequence"} for name in names} | {"logits": {0: "batch"}}
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks; outputs are compared below
        torch.onnx.export(LogitsOnly(base.model).eval(), tuple(enc[k] for k in names), str(fp32_path),
                          input_names=names, output_names=["logits"], dynamic_axes=axes, opset_version=17,
                          dynamo=False)
    quantize_dynamic(str(fp32_path), str(int8_path), weight_type=QuantType.QInt8)
    quantize_dynamic(str(fp32_path), str(int8_pc_path), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul"])
    out = {}
    for label, path in (("ONNX Runtime fp32", fp32_path), ("ONNX Runtime int8 (dynamic)", int8_path),
                        ("ONNX Runtime int8 (dynamic, MatMul only, per channel)", int8_pc_path)):
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        out[label] = (NLIModel(_OrtLogits(session), base.tokenizer, base.path, base.weights_sha256),
                      path.stat().st_size)
    return out


def throughput(models: dict[str, NLIModel], pairs: list[tuple[str, str]], batch_size: int,
               repeats: int) -> dict[str, float]:
    """Median pairs/s per variant; passes are interleaved so background load hits every variant alike."""
    for model in models.values():
        model.predict(pairs[:batch_size], batch_size=batch_size)  # warm-up: allocator, kernels, caches
    rates: dict[str, list[float]] = {name: [] for name in models}
    for r in range(repeats):
        for name, model in models.items():
            t0 = time.perf_counter()
            model.predict(pairs, batch_size=batch_size)
            rates[name].append(len(pairs) / (time.perf_counter() - t0))
        _log(f"pass {r + 1}/{repeats}: " + ", ".join(f"{n.split(' (')[0]} {v[-1]:.0f}" for n, v in rates.items()))
    return {name: statistics.median(v) for name, v in rates.items()}


def contradiction_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    c = LABELS.index("contradiction")
    tp = int(((gold == c) & (pred == c)).sum())
    return 2 * tp / max(1, int((gold == c).sum() + (pred == c).sum()))


def mcnemar_p(right: np.ndarray, ref_right: np.ndarray) -> float:
    """Two-sided McNemar test (continuity-corrected): is the accuracy change more than noise?"""
    b, c = int((right & ~ref_right).sum()), int((~right & ref_right).sum())
    if b + c == 0:
        return 1.0
    chi2 = (abs(b - c) - 1) ** 2 / (b + c)
    return math.erfc(math.sqrt(chi2 / 2))


def size_cell(size: int | None) -> str:
    return "none (built at load)" if size is None else f"{size / 2**20:.1f} MiB"


def machine_line(threads: int) -> str:
    import platform

    import torch

    return (f"{cpu_name()}, {os.cpu_count()} cores, {threads} threads; Python {platform.python_version()}, "
            f"torch {torch.__version__}, {platform.system()} {platform.machine()}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    base = load_model(args.model)
    pairs = bench_pairs(args.data_dir, args.pairs)
    sick = read_pairs(args.data_dir / "nli" / "eval" / "sick_test.jsonl", args.accuracy_limit)
    sick_pairs = [(r["premise"], r["hypothesis"]) for r in sick]
    sick_gold = np.array([LABELS.index(r["label"]) for r in sick])
    tokens = [len(x) for x in base.tokenizer([p for p, _ in pairs], [h for _, h in pairs])["input_ids"]]

    variants: dict[str, tuple[NLIModel, int | None]] = {
        "torch fp32 (fp16 safetensors, shipped)": (base, (base.path / WEIGHTS_FILE).stat().st_size)}
    int8 = torch.ao.quantization.quantize_dynamic(copy.deepcopy(base.model), {torch.nn.Linear},
                                                  dtype=torch.qint8)
    # built from the shipped fp16 file at load time, so it needs no file of its own
    variants["torch int8 (quantize_dynamic, Linear)"] = (
        NLIModel(int8, base.tokenizer, base.path, base.weights_sha256), None)

    onnx_note = ""
    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_onnx:
            try:
                variants.update(onnx_variants(base, Path(tmp), args.threads))
            except ImportError as exc:
                onnx_note = f"ONNX Runtime not measured ({exc.name} not installed)."
                _log(onnx_note)
        load_before = os.getloadavg()[0]
        rates = throughput({name: model for name, (model, _) in variants.items()}, pairs, args.batch_size,
                           args.repeats)
        load_after = os.getloadavg()[0]
        results = {}
        ref_probs = None
        for name, (model, size) in variants.items():
            _log(f"{name}: SICK test accuracy ...")
            probs = model.predict(sick_pairs, batch_size=args.batch_size)
            if ref_probs is None:
                ref_probs = probs
            pred = probs.argmax(1)
            results[name] = {
                "pairs_per_s": rates[name], "sick_test_accuracy": float((pred == sick_gold).mean()),
                "contradiction_f1": contradiction_f1(sick_gold, pred),
                "mcnemar_p_vs_fp32": mcnemar_p(pred == sick_gold, ref_probs.argmax(1) == sick_gold),
                "agreement_with_fp32": float((pred == ref_probs.argmax(1)).mean()),
                "max_abs_prob_diff": float(np.abs(probs - ref_probs).max()), "size_bytes": size,
            }
            _log(f"{name}: {rates[name]:.0f} pairs/s, accuracy {results[name]['sick_test_accuracy']:.4f}")

    ref_name = next(iter(results))
    ref = results[ref_name]
    equal = {k: r for k, r in results.items()
             if r["sick_test_accuracy"] >= ref["sick_test_accuracy"] - EQUAL_ACCURACY}
    fastest = max(equal, key=lambda k: equal[k]["pairs_per_s"])
    lines = [
        "## NLI cross-encoder: CPU throughput (`benchmarks/bench_nli.py`)", "",
        f"Machine: {machine_line(args.threads)}.  ",
        f"Model: `{base.name}`. {len(pairs):,} pairs (SICK test + detokenized SNLI test, "
        f"{np.mean(tokens):.0f} tokens per pair on average), batch {args.batch_size}, "
        f"length-sorted batching; median of {args.repeats} interleaved passes after a warm-up (load average "
        f"{load_before:.1f} before, {load_after:.1f} after). Accuracy on SICK test ({len(sick):,} pairs).", "",
        "| variant | pairs/s | vs shipped | SICK test accuracy | McNemar p vs fp32 | contradiction F1 "
        "| same label as fp32 | max prob diff | file |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['pairs_per_s']:.0f} | {r['pairs_per_s'] / ref['pairs_per_s']:.2f}x | "
                     f"{r['sick_test_accuracy']:.4f} | {r['mcnemar_p_vs_fp32']:.2f} | {r['contradiction_f1']:.3f} | "
                     f"{r['agreement_with_fp32']:.2%} | "
                     f"{r['max_abs_prob_diff']:.3f} | {size_cell(r['size_bytes'])} |")
    if max(load_before, load_after) > (os.cpu_count() or 1):
        lines += ["", f"Note: the machine was busy (load average up to {max(load_before, load_after):.1f} on "
                  f"{os.cpu_count()} cores): absolute pairs/s are low and noisy; the ratios are more reliable."]
    lines += ["", f"Fastest variant within {EQUAL_ACCURACY:.1%} SICK test accuracy of the shipped one: "
              f"**{fastest}**." + (f" {onnx_note}" if onnx_note else "")]
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps({"machine": machine_line(args.threads), "model": base.name,
                                        "load_average": [load_before, load_after],
                                        "pairs": len(pairs), "batch_size": args.batch_size,
                                        "mean_tokens": float(np.mean(tokens)), "results": results,
                                        "fastest_at_equal_accuracy": fastest}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
