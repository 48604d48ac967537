"""Typed records passed between stages; tables between stages are polars frames."""

from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Document:
    """One article. ``text`` is raw after ingest and cleaned after :mod:`claimmatch.clean`."""

    doc_id: str
    text: str
    title: str = ""
    outlet: str = ""
    url: str | None = None
    published: str | None = None
    source: str = ""  # file the document came from (for messages)

    def with_text(self, text: str) -> Document:
        return replace(self, text=text)


@dataclass
class IngestReport:
    """What ingest skipped or repaired, so ``run.json`` can count it."""

    skipped_files: list[str] = field(default_factory=list)
    skipped_rows: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_read: int = 0


# Columns of the claims table produced by claimmatch.claims.extract_claims (in this order); clustering adds
# ``cluster_id``. ``text`` is the atomic proposition (embedded, clustered, judged), ``sentence`` its sentence,
# which starts at ``sentence_start`` (so reports can mark the proposition inside it).
CLAIM_COLUMNS = [
    "claim_id", "doc_id", "outlet", "title", "url", "sentence_id", "sentence", "sentence_start", "char_start", "char_end", "text",
    "speaker", "reporting_verb", "stance", "negated", "modality", "agent", "predicate", "patient", "entities",
    "numbers", "dates", "is_title",
]
