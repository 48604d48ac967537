"""What the NLI pair judge does to same-claim detection, next to the cosine judge at the same threshold.

The NLI judge (claimmatch.judge.NLIJudge) vetoes a pair the model calls a contradiction both ways and
joins a borderline pair (candidate ≤ cosine < duplicate threshold) when entailment holds both ways.
Scored on MRPC test (label 1 = paraphrase), STS-B test (gold ≥ 4 = same claim) and the hand-labelled
seed pairs (tests/data/seed_pairs.json: put in one cluster by ``claimmatch run``, with and without NLI).

    python -m benchmarks.eval_judge --data-dir ../shared/data --json docs/eval_judge.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks.metrics import prf
from benchmarks.results import emit
from claimmatch.config import Settings
from claimmatch.judge import CosineJudge, NLIJudge

ROOT = Path(__file__).resolve().parent.parent


def scores(same: np.ndarray, gold: np.ndarray) -> dict:
    counts = {"tp": int((same & gold).sum()), "fp": int((same & ~gold).sum()),
              "fn": int((~same & gold).sum()), "tn": int((~same & ~gold).sum())}
    return {**prf(same, gold), "accuracy": round((counts["tp"] + counts["tn"]) / len(gold), 4), **counts}


def pair_sets(data_dir: Path) -> dict[str, tuple[list[str], list[str], np.ndarray]]:
    mrpc, stsb = data.mrpc(data_dir)["test"], data.stsb(data_dir)["test"]
    return {
        "mrpc_test": ([p.s1 for p in mrpc], [p.s2 for p in mrpc], np.array([p.label == 1 for p in mrpc])),
        "stsb_test (gold ≥ 4)": ([p.s1 for p in stsb], [p.s2 for p in stsb], np.array([p.label >= 4.0 for p in stsb])),
    }


def seed_clusters(settings: Settings) -> dict:
    import polars as pl

    from claimmatch.pipeline import run

    labels = json.loads((ROOT / "tests" / "data" / "seed_pairs.json").read_text(encoding="utf-8"))["pairs"]
    out = {}
    for name, use_nli in (("cosine", False), ("nli", True)):
        res = run([ROOT / "seeds"], Path(tempfile.mkdtemp(prefix="claimmatch-judge-")),
                  Settings(**{**settings.as_dict(), "use_nli": use_nli, "quiet": True}))
        claims = res.claims

        def cluster_of(doc: str, needle: str, claims: pl.DataFrame = claims) -> int | None:
            hit = claims.filter(pl.col("doc_id").str.starts_with(doc) & pl.col("text").str.contains(needle, literal=True))
            return hit["cluster_id"][0] if hit.height else None

        same = np.array([cluster_of(a, sa) is not None and cluster_of(a, sa) == cluster_of(b, sb)
                         for a, sa, b, sb, _ in labels])
        gold = np.array([y == 1 for *_, y in labels])
        out[name] = {**scores(same, gold), "clusters": len(res.clusters),
                     "cross_outlet_clusters": int((res.clusters["n_outlets"] > 1).sum())}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from claimmatch.embed import MiniLMEmbedder
    from claimmatch.nli import load_model

    settings = Settings()
    embedder, model = MiniLMEmbedder(), load_model()
    judges = {"cosine": CosineJudge(settings.threshold),
              "nli": NLIJudge(model, settings.threshold, settings.candidate_threshold,
                              settings.contradiction_threshold, settings.entailment_threshold)}
    result: dict = {"settings": {k: getattr(settings, k) for k in ("threshold", "candidate_threshold",
                                                                   "contradiction_threshold", "entailment_threshold")},
                    "nli_model": model.name}
    for name, (a, b, gold) in pair_sets(args.data_dir).items():
        va, vb = embedder.encode(a), embedder.encode(b)
        sims = np.einsum("ij,ij->i", va, vb)
        result[name] = {}
        for jname, judge in judges.items():
            verdict = judge.judge(a, b, sims)
            result[name][jname] = {**scores(verdict.same, gold), "vetoed": int(verdict.veto.sum()),
                                   "joined_below_threshold": int((verdict.same & (sims < settings.threshold)).sum())}
        print(f"{name}: {json.dumps(result[name])}", file=sys.stderr)
    result["seed_pairs"] = seed_clusters(settings)
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
