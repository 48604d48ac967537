"""Strip scraped-page boilerplate from article text before segmentation.

Scraped articles carry credits, captions, comment widgets, disclaimers, tag lines, bylines, headers and
related-article lists. Left in, they become bogus "claims" that cluster across every article of an
outlet. The rules below look at the *shape* of a line (length, terminal punctuation, position,
date-only content, repetition) rather than at known strings, so they carry over to unseen outlets.

The output keeps one paragraph per block, blocks separated by ``"\\n\\n"`` and whitespace inside a
paragraph folded to single spaces; claim character offsets refer to this text.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable

from claimmatch.records import Document

# Spaces that scrapers leave behind (no-break, thin, narrow no-break, ideographic, ...).
_SPACE_CHARS = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACE_TABLE = {**dict.fromkeys(map(ord, _SPACE_CHARS), " "), **_INVISIBLE, ord("\t"): " "}

_CLOSERS = "\"'”’»)]}›"
_TERMINAL = ".!?…"
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAYS = r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"

_URL_LINE = re.compile(r"^(?:<)?(?:https?://|www\.)\S+(?:>)?$", re.IGNORECASE)
# A line made only of date/time tokens: "29 Mar 2024", "Saturday 25 June 2016 - 16:04", "2016-06-25".
_DATE_TOKEN = re.compile(
    rf"^(?:{_WEEKDAYS}|{_MONTHS}|\d{{1,4}}(?:st|nd|rd|th)?|\d{{1,2}}:\d{{2}}(?::\d{{2}})?|"
    r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|am|pm|a\.m\.|p\.m\.|gmt|utc|[a-z]{2,4}t|"
    r"updated|published|posted|last|on|at|[-–—|/,:.])$",
    re.IGNORECASE,
)
# "Story Code : 220344", "News ID: 1234", "Article No. 55".
_CODE_LINE = re.compile(r"^[\w ]{0,30}\b(?:code|id|no\.?|number|ref)\s*[:#]\s*[\w-]+$", re.IGNORECASE)
_CREDIT_LINE = re.compile(
    r"^(?:\(?(?:photo|image|picture|pic|video|graphic|illustration|file photo|source)s?"
    r"(?:\s+(?:by|credit|courtesy(?:\s+of)?))?\s*[:|]|(?:photo|image|picture)s?\s+(?:by|credit|courtesy)\b)",
    re.IGNORECASE,
)
_WIRE = r"(?:AFP|AP|Reuters|Getty(?: Images)?|EPA|Anadolu(?: Agency)?|Xinhua|TASS|RIA Novosti|Sputnik|IRNA|" \
    r"SANA|UPI|dpa|Shutterstock|AAP|ANSA|EFE|Bloomberg|Pool)"
_WIRE_CREDIT = re.compile(rf"(?:/|\||©)\s*{_WIRE}\)?\s*$|^©|^{_WIRE}(?:\s*/\s*\S.*)?$", re.IGNORECASE)
_TAG_LINE = re.compile(r"^(?:tags?|keywords?|topics?|filed under|categor(?:y|ies)|related topics)\s*:", re.I)
_BYLINE = re.compile(
    r"^(?:by|from|written by|reporting by|source|author)\s*:?\s+[\w.'’&-]+(?:\s+[\w.'’&-]+){0,5}\s*$"
    r"|^[\w.'’&-]+(?:\s+[\w.'’&-]+){0,3}\s+(?:and|&)\s+agencies\.?$"
    r"|^(?:with\s+)?(?:agencies|wires|news desk|staff writer|staff reporter)\.?$",
    re.IGNORECASE,
)
# Comment/share/newsletter widgets: generic UI vocabulary, not any one site's strings.
_WIDGET = re.compile(
    r"^(?:what do you think\??|notify of(?: new)?(?: replies| follow-up comments)?|inline feedbacks?|"
    r"view all comments|load more comments|(?:\d+\s+)?comments?|no comments(?: yet)?|leave a (?:reply|comment)|"
    r"post (?:a )?comment|add (?:a )?comment|(?:your\s+)?(?:full\s+)?(?:name|e-?mail(?: address)?|website|"
    r"comment|message)\s*\*?:?|required fields are marked.*|submit|send|share(?: this(?: article| story)?)?"
    r"(?: on \w+)?:?|print|tweet|e-?mail this|subscribe(?: now| to .*)?|sign up(?: .*newsletter.*)?|"
    r"related(?: articles| posts| stories| news| content)?:?|read (?:more|also)\b.*|see also:?|"
    r"you (?:may|might) also like:?|recommended(?: for you)?:?|most (?:popular|read):?|advertisement|"
    r"sponsored(?: content)?|click here.*|follow us(?: on .*)?|back to top|loading\.*|"
    r"(?:newest|oldest|most voted)|guest|login|log in|register)$",
    re.IGNORECASE,
)
_DISCLAIMER = re.compile(
    r"views?(?:,)? (?:and|or) opinions? expressed|opinions? expressed (?:in|here)|"
    r"(?:solely|entirely) (?:those|the views?) of the author|do(?:es)? not necessarily (?:reflect|represent)|"
    r"does not (?:give|provide|offer) (?:\w+, )*(?:\w+ )?(?:financial|investment|legal|medical) advice|"
    r"all rights reserved|may not be (?:re)?published|reproduction (?:in whole or in part )?(?:is )?prohibited|"
    r"this (?:article|story) (?:was|is) (?:originally|first) published|cookies? (?:policy|settings)|"
    r"terms of (?:use|service)|privacy policy",
    re.IGNORECASE,
)
# A caption ends in a dateline "Place, [Weekday,] Month D, YYYY." (not "on Month D, YYYY" as prose would).
_CAPTION_DATE = re.compile(
    rf"(?<!\bon)(?<!\bsince)(?<!\buntil)(?<!\bby)(?<!\bbefore)(?<!\bafter)(?<!\bfrom)(?<!\bof)(?<!\bto)"
    rf"(?<!\bin)(?<!\bthrough)(?:,\s*|\s+)(?:{_WEEKDAYS},?\s+)?{_MONTHS}\s+\d{{1,2}},?\s+\d{{4}}[.)]?\s*$"
)
_WORD = re.compile(r"[^\W\d_](?:[\w'’.-]*\w)?")
# "Alwaght- The ...", "DAMASCUS, June 25 (Reuters) - The ...": the outlet's dateline opening the story.
_DATELINE = re.compile(
    r"^[A-Z][\w’'.]*(?:[ ,]+[A-Z][\w’'.]*){0,3}(?:,? [A-Z][a-z]{2,8}\.? \d{1,2})?\s*(?:\([^)]{1,40}\))?"
    r"\s?[-–—]+\s+(?=[A-Z“\"])"
)
_CONNECTIVE_END = re.compile(r"(?:[,;–—-]|\b(?:and|or|but|the|a|an|of|to|in|on|for|with|that|by|as|at))$")


def fold(text: str) -> str:
    """Normalise odd spaces and fold runs of whitespace; used so equal-looking lines compare equal."""
    return " ".join(text.translate(_SPACE_TABLE).split())


def _norm_key(line: str) -> str:
    """Comparison key that ignores case, punctuation and spacing (titles and repeats differ in those)."""
    return re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", line).casefold()).strip()


def _words(line: str) -> list[str]:
    return _WORD.findall(line)


def _has_terminal(line: str) -> bool:
    """True when the line ends like a sentence (closing quotes/brackets after the mark are allowed)."""
    stripped = line.rstrip().rstrip(_CLOSERS).rstrip()
    return bool(stripped) and (stripped[-1] in _TERMINAL or stripped[-1] == ":")


def _is_title_repeat(line: str, title_key: str) -> bool:
    """The title again, the title doubled, or "Title | Site" / "Title - Site"."""
    if not title_key:
        return False
    key = _norm_key(line)
    if not key:
        return False
    if key == title_key or key.replace(title_key, "").strip() == "":
        return True
    if key.startswith(title_key):
        tail = key[len(title_key):].split()
        return len(tail) <= 4 and re.search(r"\s[|–—-]\s|:\s", line) is not None
    return False


def _is_date_header(line: str) -> bool:
    tokens = re.findall(r"[\w.:/]+|[-–—|,]", line)
    return bool(tokens) and len(tokens) <= 10 and any(c.isdigit() for c in line) and all(
        _DATE_TOKEN.match(t) for t in tokens
    )


def _is_credit(line: str) -> bool:
    """Photo credits: "Photo by: AP", "Name / Agency/AFP", "© Reuters"; always short and unpunctuated."""
    if len(_words(line)) > 12 or (_has_terminal(line) and not line.rstrip().endswith(")")):
        return _CREDIT_LINE.match(line) is not None and len(_words(line)) <= 12
    return bool(_CREDIT_LINE.match(line) or _WIRE_CREDIT.search(line))


def _is_caption(par: str) -> bool:
    """Photo captions: one sentence describing a scene, closing on a "Place, Month D, YYYY." dateline."""
    return 6 <= len(_words(par)) <= 80 and _CAPTION_DATE.search(par) is not None


def _is_heading(par: str, max_words: int = 12) -> bool:
    """Headlines, section heads and stray fragments: short and without sentence-final punctuation."""
    if _has_terminal(par):
        return False
    return len(_words(par)) <= max_words


def line_reason(line: str, title_key: str = "", repeated: frozenset[str] = frozenset()) -> str | None:
    """Why a single (folded) line is boilerplate, or None to keep it; reasons make rules testable."""
    if not line:
        return "empty"
    if _URL_LINE.match(line):
        return "url"
    if _is_title_repeat(line, title_key):
        return "title"
    if repeated and _norm_key(line) in repeated:
        return "repeated"
    if _TAG_LINE.match(line):
        return "tags"
    if _WIDGET.match(line):
        return "widget"
    if _CODE_LINE.match(line) or _is_date_header(line):
        return "header"
    if _is_credit(line):
        return "credit"
    if _BYLINE.match(line) and not _has_terminal(line.rstrip(".")):
        return "byline"
    if not _words(line):
        return "fragment"
    return None


def paragraph_reason(par: str) -> str | None:
    """Rules that need the whole (unwrapped) paragraph."""
    if _DISCLAIMER.search(par) and len(_words(par)) <= 80:
        return "disclaimer"
    if _is_caption(par):
        return "caption"
    if _is_heading(par):
        return "heading"
    return None


def _merge_wrapped(lines: list[str]) -> list[str]:
    """Re-join hard-wrapped lines of one block; lines that end like sentences stay separate paragraphs."""
    out: list[str] = []
    for line in lines:
        if out:
            prev = out[-1]
            cont = line[:1].islower() or (
                not _has_terminal(prev) and _CONNECTIVE_END.search(prev) is not None and len(_words(prev)) >= 8
            )
            if cont and not _has_terminal(prev):
                out[-1] = f"{prev} {line}"
                continue
        out.append(line)
    return out


def _blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks of folded, non-empty lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    blocks: list[list[str]] = []
    for raw in re.split(r"\n[ \t\u00a0]*\n", text):
        lines = [fold(x) for x in raw.split("\n")]
        lines = [x for x in lines if x]
        if lines:
            blocks.append(lines)
    return blocks


def clean_text(text: str, title: str = "", repeated: frozenset[str] = frozenset()) -> str:
    """Clean one article; ``repeated`` holds :func:`_norm_key` keys of lines shared by the outlet's articles."""
    title_key = _norm_key(fold(title))
    seen: set[str] = set()
    paragraphs: list[str] = []
    for block in _blocks(unicodedata.normalize("NFC", text)):
        kept: list[str] = []
        for line in block:
            key = _norm_key(line)
            if key and key in seen and len(key) > 3:  # a duplicated line is a scraping artefact
                continue
            seen.add(key)
            if line_reason(line, title_key, repeated) is None:
                kept.append(line)
        for par in _merge_wrapped(kept):
            if paragraph_reason(par) is None:
                paragraphs.append(par)
    # Related-article lists and sign-offs trail the body as unpunctuated lines of any length.
    while paragraphs and _is_heading(paragraphs[-1], max_words=25):
        paragraphs.pop()
    while paragraphs and _is_heading(paragraphs[0], max_words=25):
        paragraphs.pop(0)
    if paragraphs:
        paragraphs[0] = _DATELINE.sub("", paragraphs[0], count=1)
    return "\n\n".join(paragraphs)


def _near_duplicate_groups(line_sets: list[set[str]]) -> list[int]:
    """Group id per document; two articles sharing most lines are versions of one story, not boilerplate."""
    parent = list(range(len(line_sets)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    holders: defaultdict[str, list[int]] = defaultdict(list)
    for i, lines in enumerate(line_sets):
        for key in lines:
            holders[key].append(i)
    pair_counts: Counter[tuple[int, int]] = Counter()
    for docs in holders.values():
        if 2 <= len(docs) <= 3:  # lines shared widely are boilerplate; only narrow sharing hints at copies
            for a_pos, a in enumerate(docs):
                for b in docs[a_pos + 1:]:
                    pair_counts[(a, b)] += 1
    for (a, b), shared in pair_counts.items():
        if shared >= max(2, 0.5 * min(len(line_sets[a]), len(line_sets[b]))):
            parent[find(a)] = find(b)
    return [find(i) for i in range(len(line_sets))]


def repeated_lines(docs: Iterable[Document]) -> dict[str, frozenset[str]]:
    """Per outlet, the line keys found in two or more distinct stories of that outlet (site furniture)."""
    by_outlet: defaultdict[str, list[Document]] = defaultdict(list)
    for doc in docs:
        if doc.outlet:
            by_outlet[doc.outlet].append(doc)
    result: dict[str, frozenset[str]] = {}
    for outlet, group in by_outlet.items():
        if len(group) < 2:
            continue
        line_sets = [{k for block in _blocks(d.text) for line in block if (k := _norm_key(line))} for d in group]
        groups = _near_duplicate_groups(line_sets)
        owners: defaultdict[str, set[int]] = defaultdict(set)
        for gid, lines in zip(groups, line_sets, strict=True):
            for key in lines:
                owners[key].add(gid)
        result[outlet] = frozenset(k for k, g in owners.items() if len(g) >= 2)
    return result


def clean_documents(docs: list[Document]) -> list[Document]:
    """Clean every document (same order), dropping lines that repeat across one outlet's articles."""
    repeated = repeated_lines(docs)
    return [d.with_text(clean_text(d.text, d.title, repeated.get(d.outlet, frozenset()))) for d in docs]
