"""Score claimmatch on the hand-labelled seed pairs (tests/data/seed_pairs.json).

Reports, for embedding the whole sentence (``text``) versus the attribution-free proposition (``core``),
the cosine of same-claim and different-claim pairs and their ROC-AUC, then whether each labelled pair
ends up in one cluster under the cosine judge and the NLI judge. Run after changing thresholds:

    python -m benchmarks.eval_seeds [--threshold 0.75] [--json docs/eval_seeds.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.embed import EmbeddingCache, MiniLMEmbedder, embed_texts
from claimmatch.ingest import load_documents
from claimmatch.pipeline import Timer, make_judge, prepare_claims
from claimmatch.store import build_faiss

ROOT = Path(__file__).resolve().parent.parent


def locate(claims: pl.DataFrame, doc_prefix: str, needle: str) -> int:
    hits = [i for i, (d, t) in enumerate(zip(claims["doc_id"], claims["text"], strict=True))
            if d.startswith(doc_prefix) and needle in t]
    if len(hits) != 1:
        raise SystemExit(f"seed pair side {doc_prefix}:{needle!r} matches {len(hits)} claims; fix the label file")
    return hits[0]


def auc(pos: list[float], neg: list[float]) -> float:
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    ap.add_argument("--labels", type=Path, default=ROOT / "tests" / "data" / "seed_pairs.json")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--judges", default="cosine,nli", help="comma-separated: cosine, nli")
    args = ap.parse_args(argv)
    settings = Settings(quiet=True) if args.threshold is None else Settings(quiet=True, threshold=args.threshold)
    _, claims = prepare_claims(load_documents([args.seeds]), Timer())
    labels = json.loads(args.labels.read_text(encoding="utf-8"))["pairs"]
    pairs = [(locate(claims, da, a), locate(claims, db, b), y) for da, a, db, b, y in labels]
    embedder = MiniLMEmbedder()
    cache = EmbeddingCache(settings.resolved_cache_dir())
    result: dict = {"pairs": len(pairs), "positives": sum(y for *_, y in pairs), "fields": {}}
    vectors = {}
    for field in ("text", "core"):
        v = embed_texts(claims[field].to_list(), embedder, cache, quiet=True)
        vectors[field] = v.astype(np.float16).astype(np.float32)
        sims = [(float(v[i] @ v[j]), y) for i, j, y in pairs]
        pos = [s for s, y in sims if y]
        neg = [s for s, y in sims if not y]
        # Every other cross-outlet pair stands in for "not the same claim" (almost all of them are not).
        outlet = claims["outlet"].to_numpy()
        sim = v @ v.T
        labelled = {(min(i, j), max(i, j)) for i, j, _ in pairs}
        iu = np.triu_indices(len(v), 1)
        rest = [float(sim[i, j]) for i, j in zip(*iu, strict=True)
                if outlet[i] != outlet[j] and (int(i), int(j)) not in labelled]
        result["fields"][field] = {
            "mean_pos": round(float(np.mean(pos)), 4), "mean_hard_neg": round(float(np.mean(neg)), 4),
            "auc_vs_hard_neg": round(auc(pos, neg), 4), "auc_vs_all_cross_outlet": round(auc(pos, rest), 4),
            "mean_all_cross_outlet": round(float(np.mean(rest)), 4)}
    from claimmatch.cluster import cluster_claims

    result["judges"] = {}
    for judge_name in args.judges.split(","):
        model = None
        if judge_name == "nli":
            from claimmatch.nli import load_model

            model = load_model()
        judge = make_judge(settings, model)
        v = vectors[settings.embed_field]
        res = cluster_claims(claims, v, build_faiss(v), judge, settings.neighbors, settings.embed_field)
        cid = res.claims["cluster_id"].to_list()
        together = [(cid[i] == cid[j], y) for i, j, y in pairs]
        tp = sum(t and y for t, y in together)
        fp = sum(t and not y for t, y in together)
        fn = sum((not t) and y for t, y in together)
        result["judges"][judge_name] = {
            "threshold": settings.threshold, "same_cluster_tp": tp, "fp": fp, "fn": fn,
            "precision": round(tp / (tp + fp), 4) if tp + fp else None,
            "recall": round(tp / (tp + fn), 4) if tp + fn else None,
            "cross_outlet_clusters": int((res.clusters["n_outlets"] > 1).sum()),
        }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
