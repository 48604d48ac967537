"""Build the v4 NLI training mix (written under runs/, never committed) from ``--data-dir``.

The mix is what a time-boxed CPU run actually sees, so it is weighted towards the styles the model is
judged on and used for: SNLI/MNLI-style premises (Linguist-in-the-loop on MNLI train premises, SNLI train
subsets, WANLI), Wikipedia-premise NLI (New Protocols, semi-automatic NLI: what ANLI is written on),
fact-verification pairs (HealthVer, Fool Me Twice), the curated ``train.jsonl`` with JOCI down-sampled
(its ordinal "plausible → neutral" labels are noisy and 44 % of that file), SICK twice, and the news
adaptation rows of ``build_news_nli.py`` (unrelated and same-topic news pairs neutral, agent swaps and
negations contradiction) without that script's replay sample (the rows above replace it).

ConTRoL (``extra/control.jsonl``) is left out: its premises (median ~250 words) would be cut to 128 tokens,
which makes many labels wrong. FOLIO is left out too: first-order logic puzzles, not news language.

Each source is capped (``--cap SOURCE=N``) and sampled with a fixed seed; the output is shuffled. The
row counts per source and label are printed and recorded in the model card.

    python scripts/build_news_nli.py --data-dir ../shared/data --replay 0 --out runs/news_nli.jsonl
    python scripts/build_nli_mix.py --data-dir ../shared/data --news runs/news_nli.jsonl --out runs/nli_mix.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

from claimmatch.fileio import atomic_write_text

# file (relative to DATA_DIR/nli) → default cap (0 = all rows)
SOURCES: dict[str, int] = {
    "train.jsonl": 0,
    "extra/ling_in_loop.jsonl": 0,
    "extra/snli_cnli_subsets.jsonl": 0,
    "extra/wanli_disco15k.jsonl": 0,
    "extra/new_protocols_wiki.jsonl": 20000,
    "extra/semi_automatic_nli_wiki.jsonl": 8000,
    "extra/healthver.jsonl": 0,
    "extra/fm2.jsonl": 0,
}
# caps on a `source` field inside a file
SOURCE_CAPS: dict[str, int] = {"JOCI": 8000}
REPEAT: dict[str, int] = {"SICK": 2}


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def sample(rows: list[dict], cap: int, rng: random.Random) -> list[dict]:
    if not cap or len(rows) <= cap:
        return rows
    return rng.sample(rows, cap)


def build(data_dir: Path, news: Path | None, seed: int, caps: dict[str, int]) -> list[dict]:
    rng = random.Random(seed)
    out: list[dict] = []
    for rel, cap in SOURCES.items():
        rows = read_jsonl(data_dir / "nli" / rel)
        by_source: dict[str, list[dict]] = {}
        for r in rows:
            by_source.setdefault(r.get("source", rel), []).append(r)
        kept: list[dict] = []
        for src in sorted(by_source):
            part = sample(by_source[src], caps.get(src, SOURCE_CAPS.get(src, 0)), rng)
            kept.extend(part * REPEAT.get(src, 1))
        out.extend(sample(kept, caps.get(rel, cap), rng))
    if news is not None:
        out.extend(read_jsonl(news))
    rng.shuffle(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--news", type=Path, default=None, help="output of build_news_nli.py (its non-replay rows)")
    ap.add_argument("--out", type=Path, default=Path("runs/nli_mix.jsonl"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--cap", action="append", default=[], metavar="SOURCE=N", help="override a cap")
    args = ap.parse_args(argv)
    if not (args.data_dir / "nli" / "train.jsonl").exists():
        print(f"error: {args.data_dir}/nli/train.jsonl not found; pass --data-dir", file=sys.stderr)
        return 2
    caps = {k: int(v) for k, _, v in (c.partition("=") for c in args.cap)}
    rows = build(args.data_dir, args.news, args.seed, caps)
    atomic_write_text(args.out, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    counts = Counter(r.get("source", "?") for r in rows)
    labels = Counter(r["label"] for r in rows)
    print(json.dumps({"rows": len(rows), "labels": dict(labels), "by_source": dict(counts.most_common())}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
