"""What the contradiction stage's cuts cost in recall, and how many NLI calls they save.

The stage (:func:`claimmatch.contradict.find_contradictions`) asks the NLI model only about pairs that can
become a flagged contradiction: different outlets, FAISS neighbours (top ``neighbors``) at cosine ≥
``candidate_threshold`` (one subject) or claims naming the same entity, agent or patient, one direction first and the reverse
only where it can change the decision. Measured against scoring every cross-outlet pair in both directions:

- ARC stance pairs (``pairs/arc_stance.jsonl``, train split = dev data): the claim (``text_a``) is one
  outlet's claim, each sentence of the post (``text_b``) a claim of another outlet. A pair is *linked* when
  at least one claim pair is flagged. Recall = share of ``disagree`` pairs linked; the share of ``agree``
  pairs linked is the false-alarm rate. The same model outputs serve every configuration, so the
  differences are the cuts alone.
- The seed disagreement labels (tests/data/seed_contradictions.json): which labelled disagreements survive
  the candidate cut at all (the NLI model flags none of them; who-did-it finds them from frames).

Different clusters is not measured: the clustering judge vetoes any pair the same rule flags, so no
flaggable pair shares a cluster.

    python -m benchmarks.contradiction_cuts --data-dir ../shared/data --json docs/contradiction_cuts.json
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
from sklearn.metrics import recall_score

from benchmarks.results import emit
from claimmatch.config import Settings
from claimmatch.contradict import find_contradictions
from claimmatch.nli_rules import contradiction_score
from claimmatch.segment import split_sentences

ROOT = Path(__file__).resolve().parent.parent


class Replay:
    """Answers ``predict`` from model outputs computed once, and counts the calls a configuration makes."""

    def __init__(self, table: dict[tuple[str, str], np.ndarray]) -> None:
        self.table, self.calls = table, 0

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        self.calls += len(pairs)
        return np.stack([self.table[p] for p in pairs]) if pairs else np.zeros((0, 3), np.float32)


def arc_items(data_dir: Path, per_label: int, max_sentences: int, seed: int) -> list[dict]:
    rows = [json.loads(line) for line in (data_dir / "pairs" / "arc_stance.jsonl").open(encoding="utf-8")]
    rng = random.Random(seed)
    items = []
    for label in ("disagree", "agree"):
        pool = [r for r in rows if r.get("split") == "train" and r["label"] == label]
        for r in rng.sample(pool, min(per_label, len(pool))):
            post = r["text_b"]
            sents = [post[s:e] for s, e in split_sentences(post)][:max_sentences]
            sents = [s for s in sents if len(s.split()) >= 3]
            if sents:
                items.append({"claim": r["text_a"], "sentences": sents, "disagree": label == "disagree"})
    return items


def claims_of(item: dict) -> pl.DataFrame:
    texts = [item["claim"], *item["sentences"]]
    n = len(texts)
    return pl.DataFrame({"claim_id": ["a"] + [f"b{k:03d}" for k in range(1, n)], "doc_id": ["claim"] + ["post"] * (n - 1),
                         "outlet": ["claim"] + ["post"] * (n - 1), "text": texts,
                         "speaker": pl.Series([None] * n, dtype=pl.String)})


def run_arc(items: list[dict], model, encode, settings: Settings, configs: dict[str, dict],
            thresholds: list[float]) -> dict:
    pairs = sorted({(it["claim"], s) for it in items for s in it["sentences"]})
    start = time.perf_counter()
    probs = model.predict(pairs + [(b, a) for a, b in pairs], batch_size=settings.batch_size)
    seconds = time.perf_counter() - start
    table = {p: probs[k] for k, p in enumerate(pairs)}
    table.update({(b, a): probs[len(pairs) + k] for k, (a, b) in enumerate(pairs)})
    vectors = [encode([it["claim"], *it["sentences"]]) for it in items]
    gold = np.array([it["disagree"] for it in items])
    out = {"items": len(items), "disagree": int(gold.sum()), "agree": int((~gold).sum()), "claim_pairs": len(pairs),
           "model_seconds_all_pairs_both_ways": round(seconds, 1)}
    import faiss

    indexes = []
    for vec in vectors:
        index = faiss.IndexFlatIP(vec.shape[1])
        index.add(np.ascontiguousarray(vec, dtype=np.float32))
        indexes.append(index)
    from benchmarks.sentence_frames import add_frames

    framed = [add_frames(claims_of(it), "text") for it in items]  # entities, agent, patient per claim
    out["results"] = {}
    for threshold in thresholds:
        base = replace(settings, contradiction_threshold=threshold)
        # every cross-outlet pair in both directions: the reference
        linked = []
        for it in items:
            ab = np.stack([table[(it["claim"], s)] for s in it["sentences"]])
            ba = np.stack([table[(s, it["claim"])] for s in it["sentences"]])
            linked.append(bool((contradiction_score(ab, ba, base.contradiction_rule) >= threshold).any()))
        ref = np.array(linked)
        results = {"all pairs, both directions": _row(ref, gold, 2 * sum(len(it["sentences"]) for it in items), ref)}
        for name, change in configs.items():
            s = replace(base, **change)
            replay = Replay(table)
            got = []
            for claims, vec, index in zip(framed, vectors, indexes, strict=True):
                found = find_contradictions(claims, vec, index, np.arange(len(claims)), replay, s)
                got.append(found.pairs.height > 0)
            results[name] = _row(np.array(got), gold, replay.calls, ref)
        out["results"][f"flag at p(contradiction) ≥ {threshold}"] = results
    return out


def _row(linked: np.ndarray, gold: np.ndarray, calls: int, ref: np.ndarray) -> dict:
    recall = float(recall_score(gold, linked, zero_division=0))
    ref_recall = float(recall_score(gold, ref, zero_division=0))
    return {"disagree_linked": round(recall, 4), "agree_linked": round(float(linked[~gold].mean()), 4),
            "recall_loss_points": round(100 * (ref_recall - recall), 2), "model_calls": calls}


def seed_candidates(labels_path: Path, model, encode, settings: Settings) -> dict:
    """Which labelled seed disagreements are candidate pairs of the stage, and what NLI gives them."""
    from claimmatch.claims import extract_claims
    from claimmatch.clean import clean_documents
    from claimmatch.cluster import retrieve_pairs
    from claimmatch.ingest import load_documents
    from claimmatch.records import IngestReport
    from claimmatch.store import build_faiss

    claims = extract_claims(clean_documents(load_documents([ROOT / "seeds"], IngestReport())))
    texts = claims[settings.embed_field].to_list()
    vectors = encode(texts)
    cand = retrieve_pairs(build_faiss(vectors), vectors, settings.neighbors, settings.candidate_threshold)
    neighbours = set(zip(cand.i.tolist(), cand.j.tolist(), strict=True))
    outlets = claims["outlet"].to_list()
    labels = json.loads(labels_path.read_text(encoding="utf-8"))["pairs"]
    rows = []
    for sa, sb, y in labels:
        ia = [k for k, t in enumerate(texts) if sa in t]
        ib = [k for k, t in enumerate(texts) if sb in t]
        if len(ia) != 1 or len(ib) != 1:
            continue
        i, j = sorted((ia[0], ib[0]))
        ab, ba = model.predict([(texts[i], texts[j]), (texts[j], texts[i])])
        rows.append({"label": y, "cosine": round(float(vectors[i] @ vectors[j]), 3),
                     "cross_outlet": outlets[i] != outlets[j], "candidate": (i, j) in neighbours,
                     "p_contradiction": round(float(contradiction_score(ab[None], ba[None])[0]), 4)})
    pos = [r for r in rows if r["label"] == 1]
    return {"labelled_found": len(rows), "disagreements": len(pos),
            "disagreements_that_are_candidates": sum(r["candidate"] for r in pos),
            "disagreements_flagged_by_nli": sum(r["p_contradiction"] >= settings.contradiction_threshold for r in pos),
            "pairs": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=Path("../shared/data"))
    ap.add_argument("--per-label", type=int, default=60, help="ARC train pairs per label (disagree, agree)")
    ap.add_argument("--max-sentences", type=int, default=25, help="post sentences kept per ARC pair")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 0.8],
                    help="flag thresholds to measure at (the setting is 0.8; ARC links almost nothing there)")
    ap.add_argument("--labels", type=Path, default=ROOT / "tests" / "data" / "seed_contradictions.json")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--nli-model", type=Path, default=None, help="NLI model folder (default: the shipped model)")
    args = ap.parse_args(argv)
    from claimmatch.embed import MiniLMEmbedder
    from claimmatch.nli import load_model

    settings = Settings(quiet=True)
    model, embedder = load_model(args.nli_model), MiniLMEmbedder()
    configs = {
        "stage (neighbours at cosine ≥ 0.45 or a shared subject, reverse where it can matter)": {},
        "stage without shared-subject pairs": {"subject_key_max_claims": 0},
        "stage, candidate cosine ≥ 0.35": {"candidate_threshold": 0.35},
        "stage, candidate cosine ≥ 0.55": {"candidate_threshold": 0.55},
        "stage, forward direction only": {"contradiction_rule": "forward"},
        "stage without the frame-clash rule": {"nli_flag_needs_clash": False},
    }
    items = arc_items(args.data_dir, args.per_label, args.max_sentences, args.seed)
    result = {"model": model.name, "settings": {"candidate_threshold": settings.candidate_threshold,
                                                "neighbors": settings.neighbors,
                                                "contradiction_threshold": settings.contradiction_threshold,
                                                "contradiction_rule": settings.contradiction_rule},
              "arc_train": run_arc(items, model, embedder.encode, settings, configs, args.thresholds),
              "seeds": seed_candidates(args.labels, model, embedder.encode, settings)}
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
