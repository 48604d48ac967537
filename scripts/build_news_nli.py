"""Build the news adaptation set for fine-tuning the NLI model (written under runs/, never committed).

The base model learned from SNLI-style captions that two sentences describing different things
"contradict" (they describe one photo). News claims about one subject are mostly *neutral* to each
other, so the base model flags far too many pairs on news. This mixes, from ``--data-dir``:

- a replay sample of ``nli/train.jsonl`` (keeps the three-way skill),
- MRPC *train* pairs: paraphrase → entailment (both orders), non-paraphrase → neutral,
- STS-B *train* pairs: score ≥ 4.6 → entailment (both orders), score ≤ 1.0 → neutral,
- sentence pairs from different BBC News articles of one category that share a capitalised name → neutral.

MRPC/STS-B test and dev splits are not used (they score the duplicate detector), and no NLI eval file is.

    python scripts/build_news_nli.py --data-dir ../shared/data --out runs/news_nli.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def tsv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def row(p: str, h: str, label: str, source: str) -> dict:
    return {"premise": p, "hypothesis": h, "label": label, "source": source, "split": "train"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--out", type=Path, default=Path("runs/news_nli.jsonl"))
    ap.add_argument("--replay", type=int, default=24000, help="rows sampled from nli/train.jsonl")
    ap.add_argument("--news-pairs", type=int, default=8000)
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    out: list[dict] = []
    train = [json.loads(x) for x in (args.data_dir / "nli" / "train.jsonl").read_text(encoding="utf-8").splitlines()
             if x.strip()]
    out += rng.sample(train, min(args.replay, len(train)))
    for r in tsv(args.data_dir / "paraphrase" / "mrpc.tsv"):
        if r["split"] != "train":
            continue
        a, b = r["sentence1"], r["sentence2"]
        if r["label"] == "1":
            out += [row(a, b, "entailment", "MRPC-train"), row(b, a, "entailment", "MRPC-train")]
        else:
            out.append(row(a, b, "neutral", "MRPC-train"))
    for r in tsv(args.data_dir / "paraphrase" / "stsb.tsv"):
        if r["split"] != "train":
            continue
        score = float(r["score"])
        a, b = r["sentence1"], r["sentence2"]
        if score >= 4.6:
            out += [row(a, b, "entailment", "STSB-train"), row(b, a, "entailment", "STSB-train")]
        elif score <= 1.0:
            out.append(row(a, b, "neutral", "STSB-train"))
    from claimmatch.segment import split_sentences

    by_cat: dict[str, list[tuple[str, str, frozenset[str]]]] = defaultdict(list)
    with (args.data_dir / "news" / "bbc_news.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            art = json.loads(line)
            text = art["text"]
            for a, b in split_sentences(text):
                s = " ".join(text[a:b].split())
                names = frozenset(w for w in re.findall(r"\b[A-Z][a-z]{2,}\b", s[1:]) if w not in {"The", "But"})
                if 8 <= len(s.split()) <= 40 and not s.endswith("?") and names:
                    by_cat[art["label"]].append((art["id"], s, names))
    cats = sorted(by_cat)
    made, tries = 0, 0
    while made < args.news_pairs and tries < args.news_pairs * 50:
        tries += 1
        pool = by_cat[rng.choice(cats)]
        x, y = rng.choice(pool), rng.choice(pool)
        if x[0] == y[0] or not (x[2] & y[2]):
            continue
        out.append(row(x[1], y[1], "neutral", "BBC-news-pairs"))
        made += 1
    rng.shuffle(out)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[str, int] = defaultdict(int)
    for r in out:
        counts[f"{r['source']}:{r['label']}"] += 1
    print(json.dumps({"rows": len(out), "by_source_label": dict(sorted(counts.items()))}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
