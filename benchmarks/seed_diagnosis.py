"""Why a labelled seed pair is (not) clustered: extraction, retrieval, judge rule or grouping, per pair.

Runs the pipeline's own stages on seeds/ (clean → claims → embed → FAISS → judge → group, default settings,
shipped or given NLI model) and, for every span-labelled pair of tests/data/seed_spans.json, reports:

- **extraction**: how well each span's best claim fits it (overlap / union of characters), and a verdict:
  ``fragment`` (the claim covers under 80 % of the span) or ``wide`` (over twice the span's length: the
  claim carries more than the labelled proposition, e.g. a coordinated noun phrase left in one claim);
- **retrieval**: the claims' cosine, and whether FAISS retrieved the pair (cosine ≥ candidate threshold and
  one claim among the other's ``neighbors`` nearest);
- **judge**: NLI entailment and contradiction both ways (scored here for every pair, retrieved or not),
  frame agreement / polarity clash, and the rule of ``claimmatch.judge.decide`` that accepts or refuses;
- **grouping**: judged the same but kept apart by average-link grouping or a veto elsewhere.

The first failing stage of retrieval, judge and grouping is the pair's ``cause``; the extraction verdict
is counted beside it (a wide claim is often why the judge refused). Counts per split go to stdout and
``--out``.

    python -m benchmarks.seed_diagnosis --out docs/seed_diagnosis.json
    python -m benchmarks.seed_diagnosis --nli-model DIR --markdown      # also print the table
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from benchmarks.results import log
from benchmarks.seed_spans import LABELS, SEEDS, best_claim, cleaned_documents, load_labels, locate

COVER_MIN = 0.8  # a claim covering less of the labelled span is a fragment of it
WIDE = 2.0  # a claim this many times longer than the labelled span carries more than the labelled claim


def _fit(row: dict, start: int, end: int) -> tuple[float, str]:
    """(overlap / union of characters, extraction verdict: ok / fragment / wide) of a claim and a span."""
    overlap = max(min(end, row["char_end"]) - max(start, row["char_start"]), 0)
    union = max(end, row["char_end"]) - min(start, row["char_start"])
    verdict = "ok"
    if overlap < COVER_MIN * (end - start):
        verdict = "fragment"
    elif row["char_end"] - row["char_start"] > WIDE * (end - start):
        verdict = "wide"
    return (round(overlap / union, 3) if union > 0 else 0.0), verdict


def refusal(sim: float, ab: np.ndarray, ba: np.ndarray, agree: bool, clash: bool, s) -> str:
    """The rule of claimmatch.judge.decide that decided a pair, in words (for the table)."""
    from claimmatch.judge import decide

    same, veto = decide(np.array([sim], np.float32), ab[None], ba[None], np.array([agree]), np.array([clash]),
                        s.threshold, s.contradiction_threshold, s.entailment_threshold,
                        s.frame_entailment_threshold)
    if veto[0]:
        return "veto: contradiction both ways"
    if same[0]:
        return "same"
    if sim >= s.threshold and clash:
        return "polarity clash above the duplicate threshold"
    if not agree:
        return "band: no two-way entailment, frames " + ("clash (polarity)" if clash else "do not agree")
    return "band: no two-way entailment, frames agree but mean entailment too low"


def diagnose(nli_model: str | None, labels_path: Path = LABELS) -> dict:
    from claimmatch.cluster import cluster_claims
    from claimmatch.config import Settings
    from claimmatch.ingest import load_documents
    from claimmatch.judge import Frame, frame_relation
    from claimmatch.pipeline import default_embedder, load_nli, make_judge
    from claimmatch.prepare import prepare
    from claimmatch.store import build_faiss

    s = Settings(quiet=True, nli_model=nli_model or "")
    embedder = default_embedder(s)
    prepared = prepare(load_documents([SEEDS]), s, embedder, quiet=True)
    claims, vectors = prepared.claims, prepared.vectors
    judge = make_judge(s, load_nli(s))
    result = cluster_claims(claims, vectors, build_faiss(vectors), judge, s.neighbors, s.embed_field)
    cluster = result.claims["cluster_id"].to_list()
    row_of = {cid: k for k, cid in enumerate(claims["claim_id"].to_list())}
    cand = {(int(i), int(j)): e for e, (i, j) in enumerate(zip(result.candidates.i, result.candidates.j, strict=True))}
    docs = cleaned_documents()
    texts = claims[s.embed_field].to_list()
    rows, todo = [], []
    for p in load_labels(labels_path):
        la, lb = locate(docs, *p["a"]), locate(docs, *p["b"])
        a, b = best_claim(claims, *la), best_claim(claims, *lb)
        r = {"label": p["label"], "split": p["split"], "span_a": p["a"][1], "span_b": p["b"][1]}
        if a is None or b is None:
            rows.append({**r, "cause": "extraction: no claim"})
            continue
        i, j = sorted((row_of[a["claim_id"]], row_of[b["claim_id"]]))
        fa, fb = Frame.of([a]), Frame.of([b])
        agree, clash = frame_relation(fa, fb)
        (fit_a, ext_a), (fit_b, ext_b) = _fit(a, la[2], la[3]), _fit(b, lb[2], lb[3])
        extraction = "ok" if ext_a == ext_b == "ok" else ("fragment" if "fragment" in (ext_a, ext_b) else "wide")
        r.update({"claim_a": texts[row_of[a["claim_id"]]], "claim_b": texts[row_of[b["claim_id"]]],
                  "fit_a": fit_a, "fit_b": fit_b, "extraction": extraction,
                  "cosine": round(float(vectors[i] @ vectors[j]), 3), "retrieved": (i, j) in cand,
                  "frames_agree": agree, "polarity_clash": clash, "clustered": cluster[i] == cluster[j]})
        rows.append(r)
        todo.append((len(rows) - 1, i, j, cand.get((i, j))))
    pairs = [(texts[i], texts[j]) for _, i, j, _ in todo]
    scorer = judge.model
    probs = scorer.predict(pairs + [(y, x) for x, y in pairs], batch_size=s.batch_size) if pairs else np.zeros((0, 3))
    for n, (k, _i, _j, e) in enumerate(todo):
        r = rows[k]
        ab, ba = np.asarray(probs[n], np.float32), np.asarray(probs[len(pairs) + n], np.float32)
        r.update({"entail_ab": round(float(ab[0]), 3), "entail_ba": round(float(ba[0]), 3),
                  "contra_ab": round(float(ab[2]), 3), "contra_ba": round(float(ba[2]), 3)})
        r["rule"] = refusal(r["cosine"], ab, ba, r["frames_agree"], r["polarity_clash"], s)
        judged_same = bool(result.judgement.same[e]) if e is not None else False
        if r["clustered"]:
            r["cause"] = "clustered"
        elif not r["retrieved"]:
            r["cause"] = ("retrieval: cosine below candidate threshold" if r["cosine"] < s.candidate_threshold
                          else "retrieval: not among the nearest neighbours")
        elif not judged_same:
            r["cause"] = "judge: " + r["rule"]
        else:
            r["cause"] = "grouping (average link or a veto in the clusters)"
    summary: dict = {}
    for split in ("dev", "test", "all"):
        part = [r for r in rows if r["label"] == "same" and split in ("all", r["split"])]
        summary[split] = {"cause": dict(sorted(Counter(r["cause"] for r in part).items())),
                          "extraction": dict(sorted(Counter(r.get("extraction", "no claim") for r in part).items()))}
    return {"nli_model": getattr(scorer, "name", "nli"), "settings": {
        k: getattr(s, k) for k in ("threshold", "candidate_threshold", "neighbors", "contradiction_threshold",
                                   "entailment_threshold", "frame_entailment_threshold")},
            "cover_min": COVER_MIN, "wide": WIDE, "same_pairs": summary, "pairs": rows}


def markdown(result: dict) -> str:
    """The per-pair table of the same-claim pairs, for docs/EVALUATION.md."""
    head = ("| split | span a / span b | fit a, b (extraction) | cosine | retrieved | entail ab / ba | contra ab / ba | "
            "frames | cause |\n| --- | --- | --- | ---: | --- | --- | --- | --- | --- |")
    lines = [head]
    for r in result["pairs"]:
        if r["label"] != "same":
            continue
        if "cosine" not in r:
            lines.append(f"| {r['split']} | {r['span_a']} / {r['span_b']} | – | – | – | – | – | – | {r['cause']} |")
            continue
        frames = "clash" if r["polarity_clash"] else ("agree" if r["frames_agree"] else "–")
        spans = f"{r['span_a'][:60]} / {r['span_b'][:60]}".replace("|", "/")
        lines.append(f"| {r['split']} | {spans} | {r['fit_a']:.2f}, {r['fit_b']:.2f} ({r['extraction']}) | {r['cosine']:.2f} | "
                     f"{'yes' if r['retrieved'] else 'no'} | {r['entail_ab']:.2f} / {r['entail_ba']:.2f} | "
                     f"{r['contra_ab']:.2f} / {r['contra_ba']:.2f} | {frames} | {r['cause']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    ap.add_argument("--labels", type=Path, default=LABELS)
    ap.add_argument("--out", type=Path, default=None, help="write the per-pair diagnosis as JSON here")
    ap.add_argument("--markdown", action="store_true", help="print the per-pair table (Markdown) on stderr")
    args = ap.parse_args(argv)
    log("running the seeds' stages …")
    result = diagnose(args.nli_model, args.labels)
    if args.markdown:
        print(markdown(result), file=sys.stderr)
    print(json.dumps({k: v for k, v in result.items() if k != "pairs"}, indent=1))
    if args.out:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
