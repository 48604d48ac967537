"""Writers for the run outputs: Parquet and JSON for machines, Markdown for people.

All files of a run are staged first and then renamed into the output folder, so a run that fails
leaves the previous outputs as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import polars as pl

from claimmatch.config import Settings
from claimmatch.contradict.pairs import NLI_BASIS
from claimmatch.fileio import atomic_write_json

_DEFAULTS = Settings()  # for a header that leaves a setting out

Writer = Callable[[Path], None]


def commit_outputs(out_dir: Path, writers: dict[str, Writer]) -> list[Path]:
    """Write every file into a staging folder inside ``out_dir``, then rename each into place."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        from claimmatch.errors import ClaimmatchError

        raise ClaimmatchError(f"{out_dir}: exists and is not a folder; choose another --out")
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".claimmatch-staging-", dir=out_dir))
    try:
        for name, write in writers.items():
            write(stage / name)
        written = []
        for name in writers:
            os.replace(stage / name, out_dir / name)
            written.append(out_dir / name)
        return written
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def parquet_writer(df: pl.DataFrame) -> Writer:
    return lambda path: df.write_parquet(path, statistics=False)


def text_writer(text: str) -> Writer:
    return lambda path: path.write_text(text, encoding="utf-8")


def json_writer(data: dict) -> Writer:
    return lambda path: atomic_write_json(path, data)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def quote(text: str) -> str:
    return "“" + " ".join(text.split()) + "”"


def _speaker_note(speaker: str | None) -> str:
    return f"; speaker: {speaker}" if speaker else ""


def marked_sentence(row: dict) -> str:
    """The whole sentence, quoted, with the claim's proposition in bold (when it is only part of it)."""
    sentence = row["sentence"]
    a, b = row["char_start"] - row["sentence_start"], row["char_end"] - row["sentence_start"]
    if not 0 <= a < b <= len(sentence) or (a == 0 and b >= len(sentence.rstrip(" .!?…\"”'’»)"))):
        return quote(sentence)
    return quote(f"{sentence[:a]}**{sentence[a:b]}**{sentence[b:]}")


def render_clusters_md(claims: pl.DataFrame, clusters: pl.DataFrame, header: dict) -> str:
    """Cross-outlet clusters first (most outlets, then size), every member quoted with its source."""
    cross = clusters.filter(pl.col("n_outlets") > 1)
    within = clusters.filter((pl.col("n_outlets") == 1) & (pl.col("size") > 1))
    # only the members of printed clusters: a dict per claim of a 1M-claim corpus is seconds and a GiB
    printed = pl.concat([cross["claim_ids"], within["claim_ids"]]).explode()
    by_id = {r["claim_id"]: r for r in claims.filter(pl.col("claim_id").is_in(printed.implode())).iter_rows(named=True)}
    singles = clusters.filter(pl.col("size") == 1)
    lines = [
        "# claimmatch: claims shared across outlets",
        "",
        f"- Corpus: {header['documents']} documents from {header['outlets']} outlets, {len(claims)} claims",
        f"- Clusters: {len(clusters)} ({len(cross)} across outlets, {len(within)} within one outlet, "
        f"{len(singles)} single claims)",
        f"- Model: {header['model']}; judge: {header['judge']}; duplicate threshold {header['threshold']:.2f}; "
        f"neighbours {header['neighbors']}; embedded field: {header['embed_field']}",
        "",
        "Cohesion is the mean pairwise cosine similarity of a cluster's claims. Each member quotes its whole "
        "sentence with the claim in bold. A claim with a speaker is that speaker's claim as reported by the "
        "outlet, not the outlet's own assertion.",
        "",
    ]

    def section(title: str, frame: pl.DataFrame, empty: str) -> None:
        lines.extend([f"## {title}", ""])
        if frame.is_empty():
            lines.extend([empty, ""])
        for c in frame.iter_rows(named=True):
            lines.append(f"### Cluster {c['cluster_id']}: {_n(c['n_outlets'], 'outlet')}, {_n(c['size'], 'claim')}, "
                         f"cohesion {c['cohesion']:.2f}")
            lines.append("")
            lines.append(f"> {' '.join(c['representative_text'].split())}")
            lines.append("")
            for cid in c["claim_ids"]:
                m = by_id[cid]
                doc = "" if m["doc_id"] == m["outlet"] else f"`{m['doc_id']}`, "
                title = "title, " if m.get("is_title") else ""
                lines.append(f"- **{m['outlet']}** ({doc}{title}claim `{cid}`{_speaker_note(m['speaker'])}): "
                             f"{marked_sentence(m)}")
            lines.append("")

    section("Clusters across outlets", cross, "No claim was repeated by more than one outlet.")
    section("Clusters within one outlet", within, "None.")
    return "\n".join(lines).rstrip() + "\n"


def _who(outlet: str, speaker: str | None) -> str:
    """Attribute a claim: a quoted speaker's claim is theirs, as reported by the outlet."""
    return f"{speaker} (as reported by **{outlet}**)" if speaker else f"**{outlet}** (own assertion)"


def _source(doc_id: str, url: str | None) -> str:
    return f"[{doc_id}]({url})" if url else f"`{doc_id}`"


_RULE_WORDS = {"min": "the lower of both directions", "mean": "the mean of both directions",
               "max": "the higher of both directions", "forward": "the (a, b) direction"}


def render_contradictions_md(pairs: pl.DataFrame, topics: list, claims: pl.DataFrame, header: dict) -> str:
    """Topics with their two camps side by side, then every flagged pair by p(contradiction)."""
    by_cluster: dict[int, list[dict]] = {}
    in_camps = [cid for t in topics for camp in t.camps for cid in camp]  # only these clusters are quoted
    for row in claims.filter(pl.col("cluster_id").is_in(in_camps)).iter_rows(named=True):
        by_cluster.setdefault(row["cluster_id"], []).append(row)
    lines = [
        "# claimmatch: claims on which outlets disagree",
        "",
        f"- Corpus: {header['documents']} documents from {header['outlets']} outlets, {header['claims']} claims, "
        f"{header['clusters']} near-duplicate clusters",
        f"- NLI model: {header['nli_model']}; p(contradiction) = {_RULE_WORDS[header.get('contradiction_rule', _DEFAULTS.contradiction_rule)]}; "
        f"flag threshold {header['contradiction_threshold']:.2f}"
        + (", and the two claims' frames must clash (one negates the other, antonym verbs, numbers or dates "
           "that do not fit, doer and target swapped)" if header.get("nli_flag_needs_clash", _DEFAULTS.nli_flag_needs_clash) else ""),
        f"- Candidates: cross-{'document' if header['within_outlet'] else 'outlet'} neighbours with cosine ≥ "
        f"{header['candidate_threshold']:.2f} outside one cluster: {header['candidates']} pairs scored, "
        f"{len(pairs)} flagged in {len(topics)} topics",
        f"- Who-did-it conflicts: claims from different outlets that give the same act (same verb, or verbs "
        f"with similarity ≥ {header.get('predicate_threshold', _DEFAULTS.predicate_threshold):.2f}) on the same target (target similarity ≥ "
        f"{header.get('target_threshold', _DEFAULTS.target_threshold):.2f}) to different agents (agent similarity < "
        f"{header.get('agent_threshold', _DEFAULTS.agent_threshold):.2f}); flagged whatever their NLI scores, unless NLI calls them "
        f"entailment both ways",
        "",
        "A claim with a speaker is that speaker's claim as the outlet reports it, not the outlet's own assertion.",
        "",
        "## Topics",
        "",
    ]
    if not topics:
        lines.extend(["No contradiction was flagged.", ""])
    for t in topics:
        lines.append(f"### Topic {t.topic_id}: {t.label}")
        lines.append("")
        who_rows = pairs.filter((pl.col("topic_id") == t.topic_id) & (pl.col("basis") != NLI_BASIS))
        agent_of = dict(zip(who_rows["claim_id_a"].to_list(), who_rows["agent_a"].to_list(), strict=True))
        agent_of.update(zip(who_rows["claim_id_b"].to_list(), who_rows["agent_b"].to_list(), strict=True))
        who = len(who_rows)
        why = f" ({t.pair_count - who} by NLI alone, {who} who-did-it)" if who else ""
        lines.append(f"{_n(t.pair_count, 'flagged pair')}{why}; strongest p(contradiction) "
                     f"{t.max_p_contradiction:.2f}.")
        lines.append("")
        for name, camp in zip(("Camp A", "Camp B"), t.camps, strict=True):
            members = [m for cid in camp for m in by_cluster.get(cid, [])]
            outlets = sorted({m["outlet"] for m in members})
            lines.append(f"**{name}** ({_n(len(outlets), 'outlet')}: {', '.join(outlets)})")
            lines.append("")
            for m in sorted(members, key=lambda r: r["claim_id"]):
                agent = agent_of.get(m["claim_id"])
                says = f" (who did it, in this claim: {agent})" if agent else ""
                lines.append(f"- {_who(m['outlet'], m['speaker'])}, {_source(m['doc_id'], m.get('url'))}: "
                             f"{quote(m['text'])}{says}")
            lines.append("")
    lines.extend(["## All flagged pairs", ""])
    if pairs.is_empty():
        lines.extend(["None.", ""])
    flagged = claims.filter(pl.col("claim_id").is_in(pl.concat([pairs["claim_id_a"], pairs["claim_id_b"]]).implode()))
    url_of = dict(zip(flagged["claim_id"].to_list(), flagged["url"].to_list(), strict=True))
    ordered = pairs.sort(["p_contradiction", "claim_id_a", "claim_id_b"], descending=[True, False, False])
    for n, p in enumerate(ordered.iter_rows(named=True), 1):
        lines.append(f"{n}. p(contradiction) {p['p_contradiction']:.2f}, p(entailment) {p['p_entailment']:.2f}, "
                     f"cosine {p['similarity']:.2f}, topic {p['topic_id']}")
        lines.append(f"   - {_who(p['outlet_a'], p['speaker_a'])}, "
                     f"{_source(p['doc_id_a'], url_of.get(p['claim_id_a']))}: {quote(p['text_a'])}")
        lines.append(f"   - {_who(p['outlet_b'], p['speaker_b'])}, "
                     f"{_source(p['doc_id_b'], url_of.get(p['claim_id_b']))}: {quote(p['text_b'])}")
        if p.get("reason"):
            lines.append(f"   - flagged by NLI: {p['reason']}")
        if p["basis"] != NLI_BASIS:
            lines.append(f"   - flagged as {p['basis']}: {p['predicate']} {p['patient']!s}: "
                         f"{p['agent_a']} vs {p['agent_b']}")
    return "\n".join(lines).rstrip() + "\n"
