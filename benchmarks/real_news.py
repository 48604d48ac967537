"""The two judgements on real news: same claim (labelled AG News pairs and clusters) and flagged disagreements.

The seeds are five articles on one story; a corpus has thousands of stories, and most claim pairs that
look alike there are two facts on one topic ("The dollar edged lower on Tuesday" / "… on Wednesday").
Labels: ``tests/data/ag_news_labels.json`` (two readers each, blind; how the items were drawn is written in
the file). Claims are extracted again from ``news/ag_news_test.jsonl`` and a labelled claim is the claim at
its offsets (the best-overlapping one if the extractor moved). A pair is positive when both readers said
"same". Each judge variant decides every labelled pair from the same cosines, NLI probabilities (both
directions), frames and documents' story similarities (for claims that name nothing, as
:func:`claimmatch.story.apart_stories` in the clustering stage), so the differences are the rules alone;
pairs split into dev and test by a hash.
Figures are given as sampled and weighted back to the candidate-pair population of the corpus (the
sample over-represents pairs the NLI judge joined, see ``sampling`` in the labels file).

    python -m benchmarks.real_news --data-dir ../shared/data --out docs/real_news.json
    python -m benchmarks.real_news --nli-model DIR          # another NLI model
"""

from __future__ import annotations

import argparse
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import precision_recall_fscore_support

from benchmarks.results import emit, log
from benchmarks.seed_spans import best_claim

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "data" / "ag_news_labels.json"


def load_claims(data_dir: Path, doc_ids: set[str]) -> pl.DataFrame:
    """The claims of the labelled articles, extracted as ``claimmatch run`` does (each article its own outlet,
    so cleaning one article does not depend on the others)."""
    from claimmatch.claims import extract_claims
    from claimmatch.clean import clean_documents
    from claimmatch.ingest import load_documents

    docs = [d for d in load_documents([data_dir / "news" / "ag_news_test.jsonl"]) if d.doc_id in doc_ids]
    return extract_claims(clean_documents(docs))


def find(claims: pl.DataFrame, ref: list) -> dict:
    doc_id, start, end, in_title = ref
    row = best_claim(claims, doc_id, bool(in_title), int(start), int(end))
    if row is None:
        raise SystemExit(f"{LABELS}: no claim of {doc_id} overlaps [{start}, {end}) any more")
    return row


def is_dev(a: list, b: list) -> bool:
    return int(hashlib.sha1(json.dumps([a, b]).encode()).hexdigest(), 16) % 2 == 0


def weights(sims: np.ndarray, joined: np.ndarray, sampling: dict) -> np.ndarray:
    """Each sampled pair stands for (pairs of its stratum and half) / (sampled pairs of that stratum and half)."""
    w = np.zeros(len(sims))
    for (lo, hi), n, share in zip(sampling["strata"], sampling["population"], sampling["v7_same_share"], strict=True):
        for half, frac in ((True, share), (False, 1 - share)):
            m = (sims >= lo) & (sims < hi) & (joined == half)
            if m.any():
                w[m] = n * frac / m.sum()
    return w


def scores(pred: np.ndarray, gold: np.ndarray, w: np.ndarray | None = None) -> dict:
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average="binary", zero_division=0, sample_weight=w)
    return {"precision": round(float(p), 3), "recall": round(float(r), 3), "f1": round(float(f), 3),
            "joined": int(pred.sum()), "joined_right": int((pred & gold).sum())}


def variants(settings) -> dict:
    """Judge settings compared: the shipped rule and the one before it (borderline NLI joins on)."""
    return {"shipped (cosine >= threshold, no clash, NLI veto, unnamed claims within one story)": settings,
            "shipped without the one-story rule for unnamed claims": replace(settings, story_threshold=-1.0),
            "borderline NLI joins on (before)": replace(settings, band_join=True),
            "cosine >= threshold alone": replace(settings, use_nli=False)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--out", type=Path, default=None, help="write the result as JSON here")
    args = ap.parse_args(argv)

    from claimmatch.config import Settings
    from claimmatch.embed import EmbeddingCache, MiniLMEmbedder, embed_texts
    from claimmatch.judge import Frame, decide, frame_relation
    from claimmatch.nli import load_model
    from claimmatch.nli_rules import restates
    from claimmatch.story import apart_stories

    labels = json.loads(args.labels.read_text(encoding="utf-8"))
    pairs = labels["pairs"]
    docs = {r[0] for p in pairs for r in (p["a"], p["b"])}
    log(f"extracting claims of {len(docs)} articles")
    claims = load_claims(args.data_dir, docs)
    rows_a = [find(claims, p["a"]) for p in pairs]
    rows_b = [find(claims, p["b"]) for p in pairs]
    settings = Settings()
    cache = EmbeddingCache(settings.resolved_cache_dir())
    try:
        emb = MiniLMEmbedder()
        va = embed_texts([r["text"] for r in rows_a], emb, cache, 64, quiet=True)
        vb = embed_texts([r["text"] for r in rows_b], emb, cache, 64, quiet=True)
        every = embed_texts(claims["text"].to_list(), emb, cache, 64, quiet=True)  # documents' story vectors
    finally:
        cache.close()
    sims = np.einsum("ij,ij->i", va, vb).astype(np.float32)
    model = load_model(args.nli_model) if args.nli_model else load_model()
    log(f"scoring {len(pairs)} pairs both ways with {model.name}")
    ta, tb = [r["text"] for r in rows_a], [r["text"] for r in rows_b]
    ab = np.asarray(model.predict(list(zip(ta, tb, strict=True)), batch_size=64), np.float32)
    ba = np.asarray(model.predict(list(zip(tb, ta, strict=True)), batch_size=64), np.float32)
    frames_a, frames_b = [Frame.of([a]) for a in rows_a], [Frame.of([b]) for b in rows_b]
    rel = [frame_relation(fa, fb) for fa, fb in zip(frames_a, frames_b, strict=True)]
    agree = np.array([r[0] for r in rel])
    clash = np.array([r[1] for r in rel])
    alike = restates(ta, tb)
    # claims that name nothing are one claim only within one story (as claimmatch.cluster applies it)
    row_of = {c: k for k, c in enumerate(claims["claim_id"].to_list())}
    unnamed = np.array([not fa.entities and not fb.entities for fa, fb in zip(frames_a, frames_b, strict=True)])
    ia, ib = (np.array([row_of[r["claim_id"]] for r in rows]) for rows in (rows_a, rows_b))
    doc_ids = claims["doc_id"].to_numpy()
    gold = np.array([p["labels"] == ["same", "same"] for p in pairs])
    dev = np.array([is_dev(p["a"], p["b"]) for p in pairs])
    w = weights(sims, np.array([p["sampled_as_joined"] for p in pairs]), labels["sampling"])
    out: dict = {"nli_model": model.name, "pairs": len(pairs), "positives": int(gold.sum()),
                 "dev_pairs": int(dev.sum()), "readers_agree_pairs": sum(len(set(p["labels"])) == 1 for p in pairs),
                 "variants": {}}
    band = (sims >= settings.candidate_threshold) & (sims < settings.threshold)
    for name, s in variants(settings).items():
        if s.use_nli:
            on = s.band_join
            same, _ = decide(sims, ab, ba, agree, clash, s.threshold, s.contradiction_threshold,
                             s.entailment_threshold if on else None, s.frame_entailment_threshold if on else None,
                             alike=alike)
            same &= ~apart_stories(doc_ids, every, ia, ib, unnamed, s.story_threshold)
        else:
            same = sims >= s.threshold  # the cosine judge: no frames, so no story rule
        out["variants"][name] = {
            split: {"as_sampled": scores(same[m], gold[m]), "weighted": scores(same[m], gold[m], w[m]),
                    "borderline_joined": int((same & band & m).sum()),
                    "borderline_joined_right": int((same & band & m & gold).sum())}
            for split, m in (("dev", dev), ("test", ~dev))}
    e_min = np.minimum(ab[:, 0], ba[:, 0])
    out["borderline_entailment_auc"] = _auc(e_min[band], gold[band])
    out["clusters"] = {}
    for origin in ("old", "new"):
        items = [c for c in labels["clusters"] if origin in c["sampled_from"]]
        out["clusters"][origin] = {"clusters": len(items),
                                   "accepted_by_both": sum(c["labels"] == ["accept", "accept"] for c in items),
                                   "accepted_by_either": sum("accept" in c["labels"] for c in items)}
    flags = labels["flags"]
    out["flags"] = {"labelled": len(flags), **{k: sum(f["label"] == k for f in flags)
                                                 for k in ("disagreement", "unsure", "no")}}
    emit(out, args.out)
    return 0


def _auc(scores: np.ndarray, gold: np.ndarray) -> float | None:
    """ROC AUC of the weaker direction's entailment among borderline pairs: does the model rank the reworded
    claims above the other pairs on one topic?"""
    from benchmarks.metrics import roc_auc

    return round(float(roc_auc(scores, gold)), 3) if 0 < gold.sum() < len(gold) else None


if __name__ == "__main__":
    raise SystemExit(main())
