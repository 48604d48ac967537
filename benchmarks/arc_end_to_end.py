"""ARC stance pairs end to end: does ``claimmatch run`` link a post that disagrees with a claim?

Issue 12 asks for the end-to-end figure on ``pairs/arc_stance.jsonl`` (a headline-like claim ``text_a`` and a
user post ``text_b``, labelled agree / disagree / discuss / unrelated): claims from both texts, then the share
of ``disagree`` pairs linked by a contradiction row against the share of ``agree`` pairs (the false alarms),
and the share of ``agree`` pairs whose texts share a cluster.

Per split (train = dev data, test = test), ``--per-label`` agree and disagree pairs are drawn with ``--seed``;
each pair k becomes two documents of one corpus, the claim (``arc<k>-claim``, outlet ``claim-<k>``) and the
post (``arc<k>-post``, outlet ``post-<k>``), written as a JSONL table and read by the real pipeline
(:func:`claimmatch.pipeline.run`: ingest, clean, parser claims, MiniLM, clustering judge, NLI contradiction
stage) with default :class:`~claimmatch.config.Settings` (a ``claimmatch.toml`` in the working directory is
read as by the CLI; environment variables are not), changed only by ``--set key=value`` and ``--nli-model``.
Draws prefer pairs whose claim text and post are not in the corpus yet (ARC has 186 claims for 17,792
pairs), so one pair's copy of a claim does not take another pair's neighbour slots or cluster; the
JSON says how many distinct claim texts were drawn.

From the run's ``claims.parquet`` and ``contradictions.parquet``, pair k is *linked* when a contradiction
row joins a claim of its claim document and a claim of its post, and *shares a cluster* when a claim of
each has one ``cluster_id``. Also reported: claims per document, pairs whose claim or post gave no claim,
rows that join documents of two different pairs, the stage's candidate counts (``candidates_dropped_other_story``,
``who_did_it_dropped_other_story``) and, for context, the cosine of each pair's two documents' mean claim
vectors (what the story gate, ``story_threshold``, compares today).

    python -m benchmarks.arc_end_to_end --json docs/arc_end_to_end.json
    python -m benchmarks.arc_end_to_end --set story_threshold=-1 --json /tmp/arc_no_story.json
    python -m benchmarks.arc_end_to_end --nli-model DIR --per-label 100

Cost: one pipeline run per split over 4 × per-label documents (about 8-9 claims per post). On one core
of a shared 2-core machine with cold caches: 30 s with the defaults (both splits), 47 s with the story
gate off; one split with the gate off, 21 s at 60 per label and 35 s at 120 (NLI calls grow faster than
the corpus, 1,333 → 5,004, as more claims share subjects). Peak RSS 1.2 GB.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np
import polars as pl

from benchmarks import data
from benchmarks.metrics import quartiles
from benchmarks.results import emit, log, machine
from claimmatch.config import Settings

LABELS = ("disagree", "agree")
SPLITS = {"dev": "train", "test": "test"}  # our name → the data set's split


def sample_pairs(rows: list[dict], per_label: int, seed: int) -> list[dict]:
    """``per_label`` rows of each label, deterministic for ``seed``; claim texts and posts distinct while
    the pools allow (labels take turns, so neither takes all the claims the other could use), then any row
    whose post is new."""
    rng = random.Random(seed)
    pools = {}
    for label in LABELS:
        pool = [r for r in rows if r.get("label") == label]
        rng.shuffle(pool)
        pools[label] = pool
    picked: dict[str, list[dict]] = {label: [] for label in LABELS}
    claims: set[str] = set()
    posts: set[str] = set()
    taken: set[int] = set()
    for distinct in (True, False):
        pos = dict.fromkeys(LABELS, 0)
        while any(len(picked[lab]) < per_label and pos[lab] < len(pools[lab]) for lab in LABELS):
            for label in LABELS:
                pool = pools[label]
                while len(picked[label]) < per_label and pos[label] < len(pool):
                    row = pool[pos[label]]
                    pos[label] += 1
                    if id(row) in taken or row["text_b"] in posts or (distinct and row["text_a"] in claims):
                        continue
                    picked[label].append(row)
                    taken.add(id(row))
                    claims.add(row["text_a"])
                    posts.add(row["text_b"])
                    break
    # one order for the corpus: the labels interleaved, as drawn
    out = []
    for k in range(max(len(v) for v in picked.values())):
        out.extend(picked[label][k] for label in LABELS if k < len(picked[label]))
    return out


def write_corpus(pairs: list[dict], path: Path) -> None:
    """Two documents per pair, each its own outlet: the claim and the post."""
    with path.open("w", encoding="utf-8") as fh:
        for k, row in enumerate(pairs):
            fh.write(json.dumps({"id": f"arc{k}-claim", "text": row["text_a"], "outlet": f"claim-{k}"}) + "\n")
            fh.write(json.dumps({"id": f"arc{k}-post", "text": row["text_b"], "outlet": f"post-{k}"}) + "\n")


def _share(flags: np.ndarray) -> dict:
    return {"share": round(float(flags.mean()), 4) if flags.size else None, "count": int(flags.sum()),
            "of": int(flags.size)}


def score_run(pairs: list[dict], claims: pl.DataFrame, contradictions: pl.DataFrame | None,
              story_cos: np.ndarray, story_threshold: float) -> dict:
    """Per pair: linked by a contradiction row, sharing a cluster; then shares per label."""
    n = len(pairs)
    labels = np.array([r["label"] for r in pairs])
    clusters: list[dict[str, set[int]]] = [{"claim": set(), "post": set()} for _ in range(n)]
    for doc_id, cluster_id in claims.select("doc_id", "cluster_id").iter_rows():
        k, side = _pair_of(doc_id)
        clusters[k][side].add(int(cluster_id))
    n_claims = claims.group_by("doc_id").len()
    per_doc = dict(zip(n_claims["doc_id"].to_list(), n_claims["len"].to_list(), strict=True))
    claim_counts = np.array([per_doc.get(f"arc{k}-claim", 0) for k in range(n)])
    post_counts = np.array([per_doc.get(f"arc{k}-post", 0) for k in range(n)])
    linked = np.zeros(n, bool)
    basis: list[set[str]] = [set() for _ in range(n)]
    within = across = 0
    rows = contradictions.select("doc_id_a", "doc_id_b", "basis").iter_rows() if contradictions is not None else []
    for doc_a, doc_b, how in rows:
        (ka, sa), (kb, sb) = _pair_of(doc_a), _pair_of(doc_b)
        if ka == kb and sa != sb:
            within += 1
            linked[ka] = True
            basis[ka].add(how)
        else:
            across += 1
    shared = np.array([bool(c["claim"] & c["post"]) for c in clusters])
    out: dict = {"pairs": {lab: int((labels == lab).sum()) for lab in LABELS},
                 "distinct_claim_texts": len({r["text_a"] for r in pairs})}
    for lab in LABELS:  # None: the run had no contradiction stage (use_nli off)
        out[f"{lab}_linked"] = _share(linked[labels == lab]) if contradictions is not None else None
    for lab in ("agree", "disagree"):
        out[f"{lab}_same_cluster"] = _share(shared[labels == lab])
    out["linked_by_basis"] = {lab: {b: sum(b in basis[k] for k in np.flatnonzero(labels == lab))
                                    for b in sorted(set().union(*basis))} for lab in LABELS}
    out["claims_per_doc"] = {"claim": round(float(claim_counts.mean()), 2), "post": round(float(post_counts.mean()), 2)}
    out["pairs_without_claims"] = {"claim_doc": int((claim_counts == 0).sum()), "post_doc": int((post_counts == 0).sum())}
    out["contradiction_rows"] = {"within_a_pair": within, "across_pairs": across,
                                 "total": None if contradictions is None else contradictions.height}
    out["story_cosine"] = {}
    for lab in LABELS:
        cos = story_cos[(labels == lab) & ~np.isnan(story_cos)]
        q = {k: round(float(v), 3) for k, v in quartiles(cos).items() if k != "n"} if cos.size else {}
        out["story_cosine"][lab] = {"n": int(cos.size), **q,
                                    "at_or_above_story_threshold": int((cos >= story_threshold).sum())}
    return out


def _pair_of(doc_id: str) -> tuple[int, str]:
    """``arc12-post`` → (12, "post")."""
    stem, side = doc_id.rsplit("-", 1)
    return int(stem.removeprefix("arc")), side


def story_cosines(claims: pl.DataFrame, n: int, encode, field: str) -> np.ndarray:
    """Cosine of the mean claim vectors of each pair's two documents (nan where one gave no claim)."""
    vectors = np.asarray(encode(claims[field].to_list()), np.float64)
    docs = claims["doc_id"].to_list()
    sums: dict[str, np.ndarray] = {}
    for doc, vec in zip(docs, vectors, strict=True):
        sums[doc] = sums.get(doc, 0.0) + vec
    out = np.full(n, np.nan)
    for k in range(n):
        a, b = sums.get(f"arc{k}-claim"), sums.get(f"arc{k}-post")
        if a is not None and b is not None:
            out[k] = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return out


COUNT_KEYS = ("documents", "documents_without_claims", "claims", "clusters", "cross_outlet_clusters",
              "contradiction_candidates", "candidates_dropped_other_story", "who_did_it_candidates",
              "who_did_it_dropped_other_story", "contradiction_pairs", "contradiction_pairs_nli",
              "contradiction_pairs_who_did_it", "model_calls_cluster", "model_calls_contradictions")


def run_split(pairs: list[dict], work: Path, settings, embedder) -> dict:
    from claimmatch.embed import cached_encoder
    from claimmatch.pipeline import run

    work.mkdir(parents=True, exist_ok=True)
    corpus = work / "corpus.jsonl"
    write_corpus(pairs, corpus)
    start = time.perf_counter()
    result = run([corpus], work / "out", settings, embedder=embedder)
    seconds = time.perf_counter() - start
    path = work / "out" / "contradictions.parquet"
    contradictions = pl.read_parquet(path) if path.exists() else None
    field = settings.embed_field if settings.embed_field in result.claims.columns else "text"
    encode = cached_encoder(embedder, settings.resolved_cache_dir(), settings.batch_size)
    cos = story_cosines(result.claims, len(pairs), encode, field)
    out = score_run(pairs, result.claims, contradictions, cos, settings.story_threshold)
    counts = result.info["counts"]
    out["counts"] = {k: counts[k] for k in COUNT_KEYS if k in counts}
    out["nli"] = result.info.get("nli")
    out["timings_s"] = result.info["timings_s"]
    out["seconds"] = round(seconds, 1)
    return out


def parse_sets(items: list[str]) -> dict[str, str]:
    """``--set key=value`` items as load_settings overrides (it coerces and validates the values)."""
    known = {f.name for f in fields(Settings)}
    out = {}
    for item in items:
        key, eq, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or key not in known:
            raise SystemExit(f"--set {item!r}: expected key=value with a Settings field "
                             f"(known: {', '.join(sorted(known))})")
        out[key] = value.strip()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data-dir", type=Path, default=data.DEFAULT_DATA_DIR)
    ap.add_argument("--per-label", type=int, default=60, help="agree and disagree pairs drawn per split (default 60)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--splits", nargs="+", choices=sorted(SPLITS), default=list(SPLITS),
                    help="dev (the data's train split) and/or test")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                    help="override a Settings field, e.g. --set story_threshold=-1 (repeatable)")
    ap.add_argument("--nli-model", default=None, help="NLI model folder (default: the shipped model)")
    ap.add_argument("--work", type=Path, default=None,
                    help="keep each split's corpus and run outputs here (default: a temp dir, removed)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result here")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = ap.parse_args(argv)
    if args.per_label < 1:
        ap.error("--per-label must be at least 1")
    from claimmatch.config import load_settings
    from claimmatch.errors import ClaimmatchError
    from claimmatch.pipeline import default_embedder

    overrides = parse_sets(args.sets)
    if args.nli_model:
        overrides["nli_model"] = args.nli_model
    if args.quiet:
        overrides["quiet"] = "true"
    try:
        settings = load_settings(None, overrides, environ={})
        by_split = data.pair_set(args.data_dir, "arc_stance")
    except (ClaimmatchError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    embedder = default_embedder(settings)
    result: dict = {"data": "pairs/arc_stance.jsonl", "per_label": args.per_label, "seed": args.seed,
                    "overrides": {k: v for k, v in overrides.items() if k != "quiet"},
                    "settings": {k: getattr(settings, k) for k in (
                        "threshold", "candidate_threshold", "contradiction_threshold", "contradiction_rule",
                        "story_threshold", "band_join", "embed_field", "neighbors", "nli_precision")}}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="arc-e2e-") as tmp:
        for name in args.splits:
            rows = by_split.get(SPLITS[name], [])
            pairs = sample_pairs(rows, args.per_label, args.seed)
            if not args.quiet:
                log(f"{name} ({SPLITS[name]} split): {len(pairs)} pairs, {2 * len(pairs)} documents")
            try:
                result[name] = run_split(pairs, (args.work or Path(tmp)) / name, settings, embedder)
            except ClaimmatchError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
    result["nli_model"] = next((result[n]["nli"]["model"] for n in args.splits if result[n].get("nli")),
                               settings.nli_model or None)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["machine"] = machine()
    emit(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
