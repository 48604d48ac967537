"""The contradictions table: one row per flagged claim pair, with the frames that explain who-did-it rows."""

from __future__ import annotations

import polars as pl

PAIR_SCHEMA = {
    "claim_id_a": pl.String, "claim_id_b": pl.String, "doc_id_a": pl.String, "doc_id_b": pl.String,
    "outlet_a": pl.String, "outlet_b": pl.String, "text_a": pl.String, "text_b": pl.String,
    "speaker_a": pl.String, "speaker_b": pl.String, "similarity": pl.Float64, "p_contradiction": pl.Float64,
    "p_entailment": pl.Float64, "topic_id": pl.Int64, "cluster_id_a": pl.Int64, "cluster_id_b": pl.Int64,
    # Why the pair is flagged: "nli" (the model calls it a contradiction), "who-did-it" (same act on the
    # same target by different agents) or "nli+who-did-it"; the frame columns are set for who-did-it rows.
    # reason: for the NLI path, why the frames clash too ("one negates the other", "antonym verbs",
    # "numbers that do not fit", "dates that do not fit", "roles swapped"; claimmatch/judge.py clash_reasons).
    "basis": pl.String, "reason": pl.String, "agent_a": pl.String, "agent_b": pl.String, "predicate": pl.String, "patient": pl.String,
}
PAIR_COLUMNS = list(PAIR_SCHEMA)
NLI_BASIS = "nli"
WHO_BASIS = "who-did-it"
BOTH_BASIS = "nli+who-did-it"


def empty_pairs(with_topic: bool = True) -> pl.DataFrame:
    return pl.DataFrame(schema={c: t for c, t in PAIR_SCHEMA.items() if with_topic or c != "topic_id"})
