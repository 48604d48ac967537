"""What each cut of the clustering judge's NLI calls costs: decisions, F1 and model calls on labelled pairs.

The judge (claimmatch.judge.NLIJudge) asks the NLI model about every candidate pair at cosine ≥ the
candidate threshold. This scores every such pair of the span-labelled seed pairs (dev/test) and of MRPC
(a train sample = development, the test split = report) both ways once, then replays the judge's rule
(``decide``) on the same probabilities under each cut, so the differences are the cuts alone:

- ``both ways``: every pair, both directions (the reference);
- ``reverse cut`` (shipped): (b, a) only where ``reverse_can_change`` says it can change the decision;
- ``+ no NLI at/above the duplicate threshold``: pairs at cosine ≥ threshold without a polarity clash are
  not asked at all (the same claim; their contradiction veto is lost);
- ``+ band floor X``: pairs below cosine X are not asked (never joined, never vetoed).

Pairwise decisions only: a lost veto can also let average-link grouping merge two clusters it kept apart.

    python -m benchmarks.judge_cuts --data-dir ../shared/data --out docs/judge_cuts.json
    python -m benchmarks.judge_cuts --nli-model DIR --nli-cache /tmp/judge_cuts_nli.json
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

import numpy as np

from benchmarks import data
from benchmarks.results import emit, log

FLOORS = (0.55, 0.60, 0.65)
NEUTRAL = np.array([0.0, 1.0, 0.0], np.float32)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    ap.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    ap.add_argument("--train-sample", type=int, default=1000, help="MRPC train pairs sampled (development)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nli-cache", type=Path, default=None, help="JSON file remembering NLI scores across runs")
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    return ap.parse_args(argv)


def mrpc_sets(data_dir: Path, sample: int, seed: int) -> dict[str, dict]:
    from benchmarks.same_claim import _tsv, sentence_frames

    out = {}
    for split, name in (("train", "mrpc_dev"), ("test", "mrpc_test")):
        rows = _tsv(data_dir / "paraphrase" / "mrpc.tsv", split)
        if split == "train" and sample and len(rows) > sample:
            rows = random.Random(seed).sample(rows, sample)
        a, b = [r["sentence1"] for r in rows], [r["sentence2"] for r in rows]
        frames = sentence_frames(a + b)
        out[name] = {"a": a, "b": b, "fa": frames[:len(a)], "fb": frames[len(a):],
                     "gold": np.array([r["label"] == "1" for r in rows]), "disagree": np.zeros(len(rows), bool)}
    return out


def variants(d: dict, s) -> dict[str, dict]:
    """Per cut: model calls, decisions changed against both ways, and P/R/F1 (pairs below the band: not joined)."""
    from benchmarks.same_claim import metrics
    from claimmatch.judge import decide, reverse_can_change

    sims, ab, ba, agree, clash = d["sims"], d["ab"], d["ba"], d["agree"], d["clash"]
    args = (s.threshold, s.contradiction_threshold, s.entailment_threshold, s.frame_entailment_threshold)
    band = sims >= s.candidate_threshold

    def run(asked: np.ndarray, reverse_cut: bool) -> tuple[np.ndarray, np.ndarray, int]:
        fwd = np.where(asked[:, None], ab, NEUTRAL)
        rev = np.where(asked[:, None], ba, NEUTRAL)
        calls = 2 * int(asked.sum())
        if reverse_cut:
            need = asked & reverse_can_change(sims, fwd, agree, clash, *args)
            rev = np.where(need[:, None], ba, np.where(asked[:, None], np.float32(np.nan), NEUTRAL))
            calls = int(asked.sum() + need.sum())
        same, veto = decide(sims, fwd, rev, agree, clash, *args)
        return same & band, veto & band, calls

    ref_same, ref_veto, ref_calls = run(band, False)
    configs = {"both ways": (band, False), "reverse cut (shipped)": (band, True),
               "+ no NLI at/above the duplicate threshold": (band & ~((sims >= s.threshold) & ~clash), True)}
    for x in FLOORS:
        configs[f"+ band floor {x:.2f}"] = (band & (sims >= x), True)
    out = {}
    for name, (asked, cut) in configs.items():
        same, veto, calls = run(asked, cut)
        out[name] = {**metrics(d, same), "model_calls": calls,
                     "calls_vs_both_ways": round(calls / ref_calls, 3) if ref_calls else None,
                     "decisions_changed": int((same != ref_same).sum()), "vetoes_lost": int((ref_veto & ~veto).sum())}
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from benchmarks.same_claim import CachedModel, _pairs_from_seeds, score_pairs
    from claimmatch.config import Settings
    from claimmatch.embed import MiniLMEmbedder
    from claimmatch.nli import load_model

    settings = Settings()
    model = CachedModel(load_model(args.nli_model), args.nli_cache)
    log("extracting claims and frames (seeds, MRPC)")
    sets = {**_pairs_from_seeds(), **mrpc_sets(args.data_dir, args.train_sample, args.seed)}
    score_pairs(sets, MiniLMEmbedder(), model, settings.candidate_threshold, settings.batch_size)
    result = {"nli_model": model.name,
              "settings": {k: getattr(settings, k) for k in ("threshold", "candidate_threshold", "contradiction_threshold",
                                                             "entailment_threshold", "frame_entailment_threshold")},
              "results": {name: variants(d, settings) for name, d in sets.items()}}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
