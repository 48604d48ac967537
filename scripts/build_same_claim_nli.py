"""Build the v6 NLI training mix: same-claim pairs as NLI rows, plus a replay sample of the v5 mix.

The same-claim judge joins two claims when entailment holds both ways, but the v5 mix holds no paraphrase
of news sentences, and the model rarely gives entailment both ways to two outlets' wordings of one fact
(docs/EVALUATION.md, "Diagnosis"). This adds, from *train* splits only:

- MRPC train (news paraphrases): paraphrase → entailment both ways; not a paraphrase → neutral from the
  shorter sentence to the longer one (the longer one usually carries a fact the shorter lacks; the other
  direction is often entailment, so it is not labelled);
- STS-B train, gold ≥ 4: entailment both ways (lower scores are left out: captions of different scenes
  would be contradictions under SNLI's conventions, not neutral);
- IBM KPA 2021 train: an argument → the key point it makes: entailment; → a key point of the same topic
  and stance that it does not make: neutral (hard negatives, sampled to ``--kpa-negatives``);
- CheckThat! 2020 task 2 train: tweet → the fact-checked claim it states: entailment; its random pairs:
  neutral.

``--anli-dev r2,r3`` adds ANLI rounds 2 and 3 dev (``--anli-repeat`` times; rows whose premise occurs in
round 1 dev are dropped) and ``--no-same-claim`` leaves the rows above out: the v7 stage continues v6 on
them plus a replay of the v6 mix, so that the model sees adversarial Wikipedia NLI; ANLI round 1 dev, the
set the model is judged on, stays unseen, and rounds 2 and 3 are no longer held-out figures.

A quarter of MRPC and STS-B train (``benchmarks.data.calibration_holdout``) is held out: the judge is
calibrated on it. PERSPECTRUM's paraphrase labels are left out (many "paraphrase" rows are only on the same
side of a debate). Seeds, test and dev splits are never read.

    python scripts/build_same_claim_nli.py --data-dir ../shared/data --replay runs/nli_mix_v5.jsonl \\
        --replay-rows 60000 --out runs/nli_mix_v6.jsonl
    python scripts/build_same_claim_nli.py --data-dir ../shared/data --replay runs/nli_mix_v6.jsonl \
        --replay-rows 24000 --drop-replay-sources '' --no-same-claim --anli-dev r2,r3 --anli-repeat 3 --seed 45 --out runs/nli_mix_v7.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.data import calibration_holdout  # noqa: E402
from claimmatch.fileio import atomic_write_text  # noqa: E402


def _row(premise: str, hypothesis: str, label: str, source: str) -> dict:
    return {"premise": premise.strip(), "hypothesis": hypothesis.strip(), "label": label, "source": source}


def _tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def holdout_pairs(data_dir: Path) -> set[tuple[str, ...]]:
    """The MRPC/STS-B train pairs kept for calibration, each as its two texts sorted."""
    out = set()
    for name in ("mrpc.tsv", "stsb.tsv"):
        for r in _tsv(data_dir / "paraphrase" / name):
            a, b = r["sentence1"].strip(), r["sentence2"].strip()
            if r["split"] == "train" and calibration_holdout(r["sentence1"], r["sentence2"]):
                out.add(tuple(sorted((a, b))))
    return out


def paraphrase_rows(data_dir: Path) -> list[dict]:
    out = []
    for r in _tsv(data_dir / "paraphrase" / "mrpc.tsv"):
        a, b = r["sentence1"], r["sentence2"]
        if r["split"] != "train" or calibration_holdout(a, b):
            continue
        if r["label"] == "1":
            out += [_row(a, b, "entailment", "MRPC-train"), _row(b, a, "entailment", "MRPC-train")]
        elif len(a.split()) != len(b.split()):
            short, long_ = sorted((a, b), key=lambda t: len(t.split()))
            out.append(_row(short, long_, "neutral", "MRPC-train"))
    for r in _tsv(data_dir / "paraphrase" / "stsb.tsv"):
        a, b = r["sentence1"], r["sentence2"]
        if r["split"] == "train" and float(r["score"]) >= 4.0 and not calibration_holdout(a, b):
            out += [_row(a, b, "entailment", "STSB-train"), _row(b, a, "entailment", "STSB-train")]
    return out


def claim_matching_rows(data_dir: Path, kpa_negatives: int, rng: random.Random) -> list[dict]:
    out, negatives = [], []
    for r in _jsonl(data_dir / "pairs" / "kpa2021.jsonl"):
        if r["split"] != "train":
            continue
        if r["label"] == "1":
            out.append(_row(r["text_a"], r["text_b"], "entailment", "KPA-train"))
        else:
            negatives.append(_row(r["text_a"], r["text_b"], "neutral", "KPA-train"))
    out += rng.sample(negatives, min(kpa_negatives, len(negatives)))
    for r in _jsonl(data_dir / "pairs" / "clef2020_t2.jsonl"):
        if r["split"] == "train":
            out.append(_row(r["text_a"], r["text_b"], "entailment" if r["label"] == "1" else "neutral",
                            "CheckThat-train"))
    return out


def anli_rows(data_dir: Path, rounds: list[str], repeat: int) -> list[dict]:
    if not rounds:
        return []
    held_out = {r["premise"] for r in _jsonl(data_dir / "nli" / "eval" / "anli_dev_r1.jsonl")}
    out = []
    for rnd in rounds:
        for r in _jsonl(data_dir / "nli" / "eval" / f"anli_dev_{rnd}.jsonl"):
            if r["premise"] not in held_out:
                out.append(_row(r["premise"], r["hypothesis"], r["label"], f"ANLI-{rnd.upper()}-dev"))
    return out * repeat


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--replay", type=Path, required=True, help="the previous stage's mix (build_nli_mix.py output)")
    ap.add_argument("--replay-rows", type=int, default=60000)
    ap.add_argument("--kpa-negatives", type=int, default=6000)
    ap.add_argument("--seed", type=int, default=44)
    ap.add_argument("--drop-replay-sources", default="MRPC-train,STSB-train",
                    help="sources left out of the replay (default: the v5 mix's MRPC/STS-B rows, replaced here)")
    ap.add_argument("--no-same-claim", action="store_true", help="leave the same-claim rows out")
    ap.add_argument("--anli-dev", default="", help="comma list of ANLI dev rounds to add (r2, r3; never r1)")
    ap.add_argument("--anli-repeat", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path("runs/nli_mix_v6.jsonl"))
    args = ap.parse_args(argv)
    for need in (args.data_dir / "paraphrase" / "mrpc.tsv", args.data_dir / "pairs" / "kpa2021.jsonl", args.replay):
        if not need.exists():
            print(f"error: {need} not found; pass --data-dir / --replay", file=sys.stderr)
            return 2
    rng = random.Random(args.seed)
    # the replayed mix's own MRPC/STS-B rows (build_news_nli.py took all of train) must not bring the
    # calibration quarter back in
    held_out = holdout_pairs(args.data_dir)
    drop = {x.strip() for x in args.drop_replay_sources.split(",") if x.strip()}
    replay = [r for r in _jsonl(args.replay) if r.get("source") not in drop
              and tuple(sorted((r["premise"], r["hypothesis"]))) not in held_out]
    replay_sample = rng.sample(replay, min(args.replay_rows, len(replay)))
    rows = list(replay_sample)
    rounds = [r.strip() for r in args.anli_dev.split(",") if r.strip()]
    if "r1" in rounds:
        print("error: ANLI round 1 dev is the evaluation set; add r2 or r3 only", file=sys.stderr)
        return 2
    if not args.no_same_claim:
        rows += paraphrase_rows(args.data_dir) + claim_matching_rows(args.data_dir, args.kpa_negatives, rng)
    rows += anli_rows(args.data_dir, rounds, args.anli_repeat)
    added = Counter((r["source"], r["label"]) for r in rows[len(replay_sample):])
    rng.shuffle(rows)
    atomic_write_text(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(json.dumps({"rows": len(rows), "replay": min(args.replay_rows, len(replay)),
                      "labels": dict(Counter(r["label"] for r in rows)),
                      "added_rows": {f"{s} {lab}": n for (s, lab), n in sorted(added.items())}}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
