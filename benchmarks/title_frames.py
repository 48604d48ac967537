"""Headline frames with and without sentence casing (claimmatch/truecase.py), on hand-labelled titles.

A title in title case or capitals ("CBS Realigns Entertainment Divisions", "BRAZIL CRITICISES ADVISORY
COMMITTEE STRUCTURE") misleads the small parser: predicates such as "division" or "structure", names
run together. Labels (``tests/data/title_frames.json``, ids only) give, per title, the predicate lemmas a
reader takes for its main act. A title counts as right when one of its claims has such a predicate. Both
arms extract claims from the same cleaned articles; only ``extract_claims(truecase=...)`` differs.

    python -m benchmarks.title_frames --data-dir ../shared/data --out docs/title_frames.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl

from benchmarks.results import emit, log

LABELS = Path(__file__).resolve().parent.parent / "tests" / "data" / "title_frames.json"


def title_rows(claims: pl.DataFrame) -> dict[str, list[dict]]:
    """Each document's title claims."""
    out: dict[str, list[dict]] = {}
    for r in claims.filter(pl.col("is_title")).iter_rows(named=True):
        out.setdefault(r["doc_id"], []).append(r)
    return out


def score(items: list[dict], titles: dict[str, list[dict]]) -> dict:
    """Per split: titles whose claims carry an accepted predicate, and titles with a named doer (agent)."""
    result = {}
    for split in ("dev", "test"):
        chosen = [i for i in items if i["split"] == split and i["accept"]]
        right = sum(any(r["predicate"] in i["accept"] for r in titles.get(i["doc_id"], [])) for i in chosen)
        agents = sum(any(r["agent"] for r in titles.get(i["doc_id"], [])) for i in chosen)
        result[split] = {"titles": len(chosen), "predicate_right": right, "with_agent": agents}
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = ap.parse_args(argv)

    from claimmatch.claims import extract_claims
    from claimmatch.clean import clean_documents
    from claimmatch.ingest import load_documents

    labels = json.loads(args.labels.read_text(encoding="utf-8"))
    out: dict = {"labels": str(args.labels.name), "corpora": {}}
    for corpus, source in labels["sources"].items():
        items = [i for i in labels["items"] if i["corpus"] == corpus]
        wanted = {i["doc_id"] for i in items}
        docs = clean_documents([d for d in load_documents([args.data_dir / source]) if d.doc_id in wanted])
        log(f"{corpus}: {len(docs)} labelled articles")
        out["corpora"][corpus] = {arm: score(items, title_rows(extract_claims(docs, truecase=on)))
                                  for arm, on in (("as printed", False), ("sentence case", True))}
    emit(out, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
