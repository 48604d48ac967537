"""Read articles from folders of .txt/.md files and from JSONL, CSV and Parquet tables.

A table row needs its text in a ``text`` or ``claim`` column (a table of one claim per row works as input);
``id`` is optional: without one, a row is named ``<file stem>:<row number>``.

Documents stream out of :func:`iter_documents` one at a time so large corpora never sit in memory
whole; :func:`load_documents` is the list form for small runs.
"""

from __future__ import annotations

import csv
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

from claimmatch.errors import InputError
from claimmatch.records import Document, IngestReport

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
TABLE_SUFFIXES = {".jsonl", ".csv", ".parquet"}
SUFFIXES = TEXT_SUFFIXES | TABLE_SUFFIXES
OPTIONAL_COLUMNS = ("title", "outlet", "url", "published")
TEXT_COLUMNS = ("text", "claim")  # the first present is the document text


def _warn(report: IngestReport, message: str) -> None:
    report.warnings.append(message)
    log.warning(message)


def expand_inputs(inputs: list[Path], report: IngestReport, strict: bool = False) -> list[Path]:
    """Files named directly plus every file below named folders, in sorted (deterministic) order."""
    if not inputs:
        raise InputError("no input given: name one or more files or folders of articles")
    files: list[Path] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(p.relative_to(path)))
            for p in found:
                if p.suffix.lower() in SUFFIXES:
                    files.append(p)
                else:
                    _skip(report, p, "not a supported article file (.txt, .md, .jsonl, .csv, .parquet)", strict)
        elif path.suffix.lower() in SUFFIXES:
            files.append(path)
        else:
            raise InputError(f"{path}: unsupported file type; use .txt, .md, .jsonl, .csv or .parquet")
    if not files:
        raise InputError(f"no article files found in {', '.join(str(p) for p in inputs)}: "
                         "add .txt, .md, .jsonl, .csv or .parquet files")
    return files


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _skip(report: IngestReport, path: Path, why: str, strict: bool) -> None:
    if strict:
        raise InputError(f"{path}: {why} (remove it, or run without --strict to skip it)")
    report.skipped_files.append(str(path))
    _warn(report, f"skipped {path}: {why}")


def _read_text(path: Path, report: IngestReport, strict: bool) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        _skip(report, path, f"unreadable ({exc.strerror or exc})", strict)
        return None
    if b"\x00" in data[:8192]:
        _skip(report, path, "binary file", strict)
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        _warn(report, f"{path}: invalid UTF-8 at byte {exc.start}; decoded with replacement characters")
        return data.decode("utf-8", errors="replace")


def _load_outlet_map(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    if not path.exists():
        raise InputError(f"{path}: outlet map not found")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or [])
        id_col = "doc_id" if "doc_id" in cols else "id"
        if id_col not in cols or "outlet" not in cols:
            raise InputError(f"{path}: outlet map needs columns 'doc_id' (or 'id') and 'outlet'")
        return {row[id_col].strip(): row["outlet"].strip() for row in reader if row.get(id_col)}


def guess_title(text: str) -> str:
    """First non-empty line that reads like a headline; skips date stamps and stray fragments.

    A text of one line is its own headline (a row of a headline table, "Reform a Boon for Funds? (Reuters)",
    "The Handbag? Total Knockoff. The Price Tag? All Too Real.") unless it is longer than a headline and holds
    two sentences of three words or more, ended by a full stop, "!" or "?" (not ";", which
    headlines use to join two: "Baxter Ends Flu Vaccine Trial; Cites Side Effects"): one paragraph of a post or a comment has no
    title, its sentences are its body.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) == 1 and len(lines[0].split()) > _HEADLINE_WORDS and \
            sum(len(part.split()) >= 3 for part in _sentences(lines[0])) >= 2:
        return ""
    for ln in lines[:8]:
        words = re.findall(r"[^\W\d_]{2,}", ln)
        if len(words) >= 3 and not _DATE_LINE.search(ln):
            return ln
    return lines[0] if lines else ""


# A sentence end inside one line: a full stop, "!" or "?" after a lower-case word that is no abbreviation
# ("U.S. Says", "No. 21", "Jan. 1", "Sen. Kerry" end nothing), then a capital.
_SENTENCE_END = re.compile(r"(\w*)[.!?][\"'”’)]*\s+(?=[\"“‘(]?[A-Z])")
_HEADLINE_WORDS = 20  # longest AG News test title: 17 words; ARC claims: at most 13, ARC posts: at least 40
_ABBREVIATIONS = frozenset("govt pct mr mrs ms dr sen rep gov gen col lt sgt st mt jr sr inc corp co ltd vs no jan feb mar "
                           "apr jun jul aug sep sept oct nov dec".split())


def _sentences(line: str) -> list[str]:
    parts, start = [], 0
    for m in _SENTENCE_END.finditer(line):
        word = m.group(1)
        if len(word) >= 2 and word[-2:].islower() and word.lower() not in _ABBREVIATIONS:
            parts.append(line[start:m.end()])
            start = m.end()
    return [*parts, line[start:]]


_DATE_LINE = re.compile(r"^\W*(\w+day\s+)?\d{1,2}\s+\w+\s+\d{4}\b|story code", re.IGNORECASE)


def _text_document(path: Path, text: str) -> Document | None:
    if not text.strip():
        return None
    return Document(doc_id=path.stem, text=text, title=guess_title(text), source=str(path))


def _row_document(row: dict, path: Path, where: str, row_no: int) -> Document:
    column = next((c for c in TEXT_COLUMNS if c in row), "text")
    doc_id, text = row.get("id", f"{path.stem}:{row_no}"), row.get(column)
    if doc_id is None or str(doc_id).strip() == "":
        raise InputError(f"{where}: row has an empty 'id'; give every row an id, or leave the column out")
    if text is None:
        raise InputError(f"{where}: row has no 'text' (or 'claim'); every row needs one")
    if not isinstance(text, str):
        raise InputError(f"{where}: '{column}' must be a string")
    extra = {k: (None if row.get(k) in (None, "") else str(row[k])) for k in OPTIONAL_COLUMNS}
    title = extra["title"] or guess_title(text)
    return Document(doc_id=str(doc_id).strip(), text=text, title=title, outlet=extra["outlet"] or "",
                    url=extra["url"], published=extra["published"], source=str(path))


def _bad_row(report: IngestReport, where: str, message: str, skip_bad_rows: bool) -> None:
    """Stop on a malformed row, or record and skip it with --skip-bad-rows."""
    if not skip_bad_rows:
        raise InputError(f"{message} (fix the row, or pass --skip-bad-rows)")
    report.skipped_rows.append(where)
    _warn(report, f"skipped {message}")


def _iter_jsonl(path: Path, report: IngestReport, skip_bad_rows: bool) -> Iterator[Document]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                row = json.loads(raw.decode("utf-8", errors="replace"))
                if not isinstance(row, dict):
                    raise InputError(f"{where}: expected a JSON object per line")
                yield _row_document(row, path, where, lineno)
            except (json.JSONDecodeError, InputError) as exc:
                msg = str(exc) if isinstance(exc, InputError) else f"{where}: malformed JSON ({exc.msg})"
                _bad_row(report, where, msg, skip_bad_rows)


def _iter_csv(path: Path, report: IngestReport, skip_bad_rows: bool) -> Iterator[Document]:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        reader = csv.DictReader(fh)
        if not set(TEXT_COLUMNS) & set(reader.fieldnames or []):
            raise InputError(f"{path}:1: no 'text' or 'claim' column; a table needs one (and optionally 'id')")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                where = f"{path}:{reader.line_num}"
                _bad_row(report, where, f"{where}: malformed CSV ({exc})", skip_bad_rows)
                continue
            where = f"{path}:{reader.line_num}"
            if None in row or any(v is None for v in row.values()):
                _bad_row(report, where, f"{where}: wrong number of fields", skip_bad_rows)
                continue
            try:
                yield _row_document(row, path, where, reader.line_num)
            except InputError as exc:
                _bad_row(report, where, str(exc), skip_bad_rows)


def _iter_parquet(path: Path, report: IngestReport, skip_bad_rows: bool) -> Iterator[Document]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises several types for a broken file
        raise InputError(f"{path}: not a readable Parquet file ({exc})") from None
    names = set(pf.schema_arrow.names)
    text_cols = [c for c in TEXT_COLUMNS if c in names][:1]
    if not text_cols:
        raise InputError(f"{path}: no 'text' or 'claim' column; a table needs one (and optionally 'id')")
    cols = [*(["id"] if "id" in names else []), *text_cols, *[c for c in OPTIONAL_COLUMNS if c in names]]
    row_no = 0
    for batch in pf.iter_batches(batch_size=2048, columns=cols):
        for row in batch.to_pylist():
            row_no += 1
            where = f"{path}: row {row_no}"
            try:
                yield _row_document(row, path, where, row_no)
            except InputError as exc:
                _bad_row(report, where, str(exc), skip_bad_rows)


def iter_documents(inputs: list[Path], report: IngestReport | None = None, *, outlets: Path | None = None,
                   strict: bool = False, skip_bad_rows: bool = False) -> Iterator[Document]:
    """Yield documents in deterministic order. Outlet: metadata, else ``outlets`` map, else the doc id."""
    report = report if report is not None else IngestReport()
    outlet_map = _load_outlet_map(outlets)
    seen: dict[str, str] = {}
    for path in expand_inputs(list(inputs), report, strict):
        report.files_read += 1
        suffix = path.suffix.lower()
        if suffix in TEXT_SUFFIXES:
            text = _read_text(path, report, strict)
            doc = _text_document(path, text) if text is not None else None
            if text is not None and doc is None:
                _skip(report, path, "empty file", strict)
            docs: Iterator[Document] = iter([doc] if doc else [])
        elif suffix == ".jsonl":
            docs = _iter_jsonl(path, report, skip_bad_rows)
        elif suffix == ".csv":
            docs = _iter_csv(path, report, skip_bad_rows)
        else:
            docs = _iter_parquet(path, report, skip_bad_rows)
        for doc in docs:
            if doc.doc_id in seen:
                raise InputError(f"{doc.source}: duplicate document id '{doc.doc_id}' (also in {seen[doc.doc_id]}); "
                                 "document ids must be unique")
            seen[doc.doc_id] = doc.source
            outlet = doc.outlet or outlet_map.get(doc.doc_id) or doc.doc_id
            if outlet != doc.outlet:
                doc = Document(doc.doc_id, doc.text, doc.title, outlet, doc.url, doc.published, doc.source)
            yield doc


def load_documents(inputs: list[Path], report: IngestReport | None = None, **kwargs) -> list[Document]:
    return list(iter_documents(inputs, report, **kwargs))

