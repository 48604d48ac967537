"""Same-claim recall and precision on the span-labelled seed pairs (tests/data/seed_spans.json).

Each label quotes a substring of a seed article (cleaned text or title). A span maps to the extracted
claim that best fits it (character overlap over union), so the labels survive extractor changes; a pair
counts as clustered when both claims share a ``cluster_id``. Precision is over all labelled pairs that
were clustered (same, disagree and different); a disagreement inside one cluster is listed.

    python -m benchmarks.seed_spans                      # run the pipeline on seeds/ (real models)
    python -m benchmarks.seed_spans --nli-model DIR      # the same with another NLI model folder
    python -m benchmarks.seed_spans --claims out/claims.parquet   # score a finished run's claims
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import polars as pl
from sklearn.metrics import precision_score, recall_score

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "data" / "seed_spans.json"
SEEDS = ROOT / "seeds"


def load_labels(path: Path = LABELS) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["pairs"]


def cleaned_documents(seeds: Path = SEEDS) -> dict[str, tuple[str, str, str]]:
    """doc_id → (doc_id, cleaned text, title), as the pipeline sees them."""
    from claimmatch.clean import clean_documents
    from claimmatch.ingest import load_documents

    return {d.doc_id: (d.doc_id, d.text, " ".join(d.title.split())) for d in clean_documents(load_documents([seeds]))}


def locate(docs: dict[str, tuple[str, str, str]], prefix: str, span: str) -> tuple[str, bool, int, int]:
    """(doc_id, in_title, start, end) of a labelled span; a missing span is an error in the labels."""
    matches = [d for d in docs if d.startswith(prefix)]
    if len(matches) != 1:
        raise SystemExit(f"{LABELS}: document prefix {prefix!r} matches {len(matches)} seed documents")
    doc_id, text, title = docs[matches[0]]
    pos = text.find(span)
    if pos >= 0:
        return doc_id, False, pos, pos + len(span)
    pos = title.find(span)
    if pos >= 0:
        return doc_id, True, pos, pos + len(span)
    raise SystemExit(f"{LABELS}: span not found in {doc_id}: {span!r}")


def best_claim(claims: pl.DataFrame, doc_id: str, in_title: bool, start: int, end: int) -> dict | None:
    """The claim whose span fits the labelled span best (overlap / union), ties to the lower claim id."""
    rows = claims.filter(pl.col("doc_id") == doc_id)
    if "is_title" in rows.columns:
        rows = rows.filter(pl.col("is_title") == in_title)
    elif in_title:
        return None  # an extractor without title claims
    best, best_key = None, None
    for r in rows.iter_rows(named=True):
        overlap = min(end, r["char_end"]) - max(start, r["char_start"])
        if overlap <= 0:
            continue
        union = max(end, r["char_end"]) - min(start, r["char_start"])
        key = (overlap / union, r["claim_id"])
        if best_key is None or key[0] > best_key[0]:
            best, best_key = r, key
    return best


def score(claims: pl.DataFrame, labels: list[dict], docs: dict) -> dict:
    """Recall/precision of 'same' per split, and every disagreement that shares a cluster."""
    rows = []
    for p in labels:
        a = best_claim(claims, *locate(docs, *p["a"]))
        b = best_claim(claims, *locate(docs, *p["b"]))
        together = a is not None and b is not None and a["cluster_id"] == b["cluster_id"]
        rows.append({**p, "clustered": together, "claim_a": a and a["claim_id"], "claim_b": b and b["claim_id"],
                     "text_a": a and a["text"], "text_b": b and b["text"]})
    out: dict = {}
    for split in ("dev", "test", "all"):
        part = [r for r in rows if split == "all" or r["split"] == split]
        truth = [r["label"] == "same" for r in part]
        pred = [r["clustered"] for r in part]
        out[split] = {
            "pairs": len(part), "same": sum(truth), "clustered": sum(pred),
            "recall": round(recall_score(truth, pred, zero_division=0), 3),
            "precision": round(precision_score(truth, pred, zero_division=0), 3),
            "disagreements_in_one_cluster": sum(r["clustered"] and r["label"] == "disagree" for r in part),
            "different_in_one_cluster": sum(r["clustered"] and r["label"] == "different" for r in part),
        }
    out["wrongly_clustered"] = [
        {k: r[k] for k in ("label", "split", "text_a", "text_b")} for r in rows if r["clustered"] and r["label"] != "same"]
    out["missed"] = [{k: r[k] for k in ("split", "a", "b", "text_a", "text_b")}
                     for r in rows if r["label"] == "same" and not r["clustered"]]
    return out


def run_seeds(nli_model: str | None, use_nli: bool) -> pl.DataFrame:
    from claimmatch.config import Settings
    from claimmatch.pipeline import run

    settings = Settings(quiet=True, use_nli=use_nli, nli_model=nli_model or "")
    with tempfile.TemporaryDirectory() as tmp:
        return run([SEEDS], Path(tmp) / "out", settings).claims


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--claims", type=Path, help="claims.parquet of a finished run (else run the pipeline)")
    ap.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    ap.add_argument("--no-nli", action="store_true", help="cosine judge only")
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--out", type=Path, help="write the result as JSON here")
    args = ap.parse_args(argv)
    claims = pl.read_parquet(args.claims) if args.claims else run_seeds(args.nli_model, not args.no_nli)
    result = score(claims, load_labels(args.labels), cleaned_documents())
    text = json.dumps(result, indent=1, ensure_ascii=False)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    summary = {k: result[k] for k in ("dev", "test", "all")}
    print(json.dumps(summary, indent=1), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
