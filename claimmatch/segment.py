"""Sentence spans for cleaned article text.

Uses syntok (rule-based, offset-preserving, pure Python) with a few post-fixes for news text; see
docs/SEGMENTATION.md for why it beat pysbd, blingfire and sentencex on the seed articles.
Spans are (start, end) offsets into the text given, so claims can point back into the article.
"""

from __future__ import annotations

import re

from syntok import segmenter

_PARAGRAPH = re.compile(r"\n[ \t]*\n")
_CLOSING = "\"'”’»›)]"
# A sentence that starts with closing marks: they belong to the previous sentence.
_LEADING_CLOSERS = re.compile(r"^[\"'”’»›]+(?=\s|$)")
# Titles that precede a name; syntok knows some ("Mr.", "Dr.", "Gen.") but not all of these.
_TITLE_ABBREV = re.compile(
    r"(?:^|[\s(“\"«])(?:Rep|Sen|Gov|Lt|Col|Sgt|Capt|Cmdr|Maj|Gen|Adm|Prof|Amb|Pres|Rev|Fr|Hon|Supt|Insp|"
    r"Mt|Ft|St|No|Nos|Art|vs|cf|ie|i\.e|e\.g|viz)\.$"
)
# Terminal mark + closing quote + space + capital: a boundary syntok misses after guillemets.
_MISSED_BOUNDARY = re.compile(
    r"(?:(?<=[.!?…][\"'”’»›])|(?<=[.!?…][\"'”’»›][\"'”’»›]))\s+(?=[\"“«‘]?[A-Z])"
)


def _library_starts(paragraph: str) -> list[int]:
    """Offsets (within the paragraph) where syntok starts a sentence."""
    starts = []
    for para in segmenter.analyze(paragraph):
        for sentence in para:
            if sentence:
                starts.append(sentence[0].offset)
    return starts


def _strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _fix_spans(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Post-fixes on library spans: closers go back, lowercase starts and titles merge, missed splits."""
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out:
            prev_start, prev_end = out[-1]
            piece = text[start:end]
            closers = _LEADING_CLOSERS.match(piece)
            if closers:  # “...”  split as “... | ” : give the mark back
                out[-1] = (prev_start, start + closers.end())
                rest = _strip_span(text, start + closers.end(), end)
                if rest is None:
                    continue
                start, end = rest
                piece = text[start:end]
                prev_start, prev_end = out[-1]
            prev = text[prev_start:prev_end]
            starts_lower = piece[:1].islower() and not prev.rstrip(_CLOSING).endswith(("?", "!"))
            no_words = not any(ch.isalnum() for ch in piece)
            if starts_lower or no_words or _TITLE_ABBREV.search(prev):
                out[-1] = (prev_start, end)
                continue
        out.append((start, end))
    result: list[tuple[int, int]] = []
    for start, end in out:
        cut = start
        for match in _MISSED_BOUNDARY.finditer(text, start, end):
            result.append((cut, match.start()))
            cut = match.end()
        result.append((cut, end))
    return result


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) spans of sentences in ``text``, stripped, never crossing a blank-line paragraph break."""
    spans: list[tuple[int, int]] = []
    pos = 0
    bounds = [m.start() for m in _PARAGRAPH.finditer(text)] + [len(text)]
    for par_end in bounds:
        paragraph = text[pos:par_end]
        if paragraph.strip():
            starts = _library_starts(paragraph) or [0]
            starts[0] = 0
            raw = []
            for i, s in enumerate(starts):
                e = starts[i + 1] if i + 1 < len(starts) else len(paragraph)
                span = _strip_span(text, pos + s, pos + e)
                if span:
                    raw.append(span)
            spans.extend(_fix_spans(text, raw))
        match = _PARAGRAPH.match(text, par_end)
        pos = match.end() if match else par_end
    return spans
