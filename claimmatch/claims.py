"""Turn cleaned documents into a claims table: one row per atomic claim (claimmatch/propositions.py).

Every document is read as a title (sentence 0, ``is_title``) plus its body sentences (1, 2, …, from
claimmatch/segment.py). All sentences of a batch of documents are parsed in one ``nlp.pipe`` stream.
A title or a document of one sentence is a claim even without a verb or final punctuation; in the body,
a claim needs a verb (headings, captions and questions assert nothing).

``claim_id`` is ``<doc_id>#<sentence_id>.<k>``: stable as long as the document and the extractor are.
Title claims have offsets into the title (the cleaned text no longer holds it); body claims into the
cleaned text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import polars as pl

from claimmatch.parser import parse, restore_words
from claimmatch.propositions import PERSON_PRONOUNS, Proposition, propositions
from claimmatch.records import CLAIM_COLUMNS, Document
from claimmatch.segment import split_sentences
from claimmatch.truecase import CaseEvidence, headline_case, sentence_case

_LIST = pl.List(pl.String)
CLAIM_SCHEMA = {
    "claim_id": pl.String, "doc_id": pl.String, "outlet": pl.String, "title": pl.String, "url": pl.String,
    "sentence_id": pl.Int64, "sentence": pl.String, "sentence_start": pl.Int64, "char_start": pl.Int64, "char_end": pl.Int64,
    "text": pl.String, "speaker": pl.String, "reporting_verb": pl.String, "stance": pl.String,
    "negated": pl.Boolean, "modality": pl.String, "agent": pl.String, "predicate": pl.String,
    "patient": pl.String, "entities": _LIST, "numbers": _LIST, "dates": _LIST, "is_title": pl.Boolean,
}
assert list(CLAIM_SCHEMA) == CLAIM_COLUMNS
# "Fed's Plosser: weak data caused by weather": a short lead before a colon names the speaker or topic.
_HEADLINE_LEAD = re.compile(r"^(?P<lead>[^:]{1,60}?)\s*:\s+(?P<rest>\S.*)$")
_POSSESSIVE = re.compile(r"\b(?!(?:It|That|Here|What|There|Who|Where|How|Let)[’']s\b)[A-Z][\w.-]*[’']s\b")
# "Iraq war was illegal: Chirac": a short trailing name after the colon is the speaker.
_TRAILING_NAME = re.compile(r"^(?:[A-Z][\w.’'-]*)(?:\s+[A-Z][\w.’'-]*){0,2}$")
# "San Diego fiscally sound, mayor says": a headline whose source says it after a comma. The parser reads the
# verbless (or title-case) part as nothing the verb reports, and "…, mayor says" alone states nothing.
_TRAILING_SAYS = re.compile(r"^(?P<rest>\S.*?\S)\s*,\s+(?P<lead>[^,]{1,50}?)\s+(?:says|say|said)\s*[.!]?$",
                            re.IGNORECASE)


def _trailing_source(lead: str, rest: str) -> bool:
    """Whether the part after a headline's colon names who says the part before it.

    A short name ("Iraq war was illegal: Chirac") or a short source noun phrase without numbers ("Older mobiles
    may cause tumours: study", "Arafat in critical condition: aides"); "Serial blasts rock NE: 19 killed" is
    two facts, not a claim and its source.
    """
    if len(lead.split()) <= 2:
        return False
    words = rest.split()
    return bool(_TRAILING_NAME.match(rest)) or (len(words) <= 3 and all(w.isalpha() for w in words)
                                                  and len(words) < len(lead.split()))


# A reporting verb or a stand-in verb that ends its clause with nothing reported: "A Syrian regime forces
# source said." (the quote sits in another sentence), "The Russia-supported regular forces do." (ellipsis).
_CONTENTLESS = {"say": {"say", "says", "said"}, "do": {"do", "does", "did"}, "tell": {"tell", "tells", "told"},
                "add": {"add", "adds", "added"}}


def _contentless(p) -> bool:
    """Whether a proposition only names a speaker or a doer: it states nothing another outlet could share."""
    forms = _CONTENTLESS.get(p.predicate or "")
    words = p.text.rstrip(" .!?”\"'").split()
    return bool(forms) and not p.patient and bool(words) and words[-1].lower() in forms


@dataclass
class _Unit:
    doc: int
    sentence_id: int
    sentence: str  # the whole sentence (what reports quote)
    text: str  # what is parsed: the sentence, or the part of a headline after its lead
    offset: int  # of ``text`` in the document text (title: in the title)
    sent_offset: int  # of ``sentence``
    is_title: bool
    headline: bool
    lead: str | None = None  # "Fed's Plosser: …" / "…: Chirac": the speaker when it names one
    sole: bool = False  # the document's only text (a row of a table, a one-line file): one word is a claim


def _units(docs: Sequence[Document]) -> list[_Unit]:
    units: list[_Unit] = []
    for d, doc in enumerate(docs):
        spans = split_sentences(doc.text)
        title = " ".join(doc.title.split())
        one_liner = len(spans) <= 1
        if title:
            units.append(_headline_unit(d, title, sole=not spans))
        for k, (a, b) in enumerate(spans, 1):
            if one_liner and not title:
                units.append(_headline_unit(d, doc.text[a:b], sole=True, sentence_id=k, offset=a))
            else:
                units.append(_Unit(d, k, doc.text[a:b], doc.text[a:b], a, a, False, False))
    return units


def _headline_unit(d: int, text: str, *, sole: bool, sentence_id: int = 0, offset: int = 0) -> _Unit:
    """A title or a one-line document: its source, named after a colon or before "says", is the speaker."""
    is_title = sentence_id == 0
    m = _HEADLINE_LEAD.match(text)
    if m and _trailing_source(m.group("lead"), m.group("rest")):
        return _Unit(d, sentence_id, text, m.group("lead"), offset, offset, is_title, True, m.group("rest"), sole)
    if m and len(m.group("lead").split()) <= 5 and sum(w.isalpha() for w in m.group("rest").split()) >= 2:
        return _Unit(d, sentence_id, text, m.group("rest"), offset + m.start("rest"), offset, is_title, True,
                     m.group("lead"), sole)
    m = _TRAILING_SAYS.match(text)
    if m and len(m.group("lead").split()) <= 5 and len(m.group("rest").split()) >= 2:
        return _Unit(d, sentence_id, text, m.group("rest"), offset, offset, is_title, True, m.group("lead"), sole)
    return _Unit(d, sentence_id, text, text, offset, offset, is_title, True, None, sole)


# "al- Nusra" (a stray space after the Arabic article, as printed by one seed outlet) splits the parse in two.
_ARTICLE_GAP = re.compile(r"(?<![\w-])([Aa]l|[Ee]l)- (?=[A-Z])")


def parser_form(text: str) -> str:
    """The text the parser reads: ``text`` with typographic slips repaired *in place*, same length, so
    token offsets stay offsets into the document. "from al- Nusra" becomes "from  al-Nusra" (the space
    moves in front of the name)."""
    return _ARTICLE_GAP.sub(lambda m: f" {m.group(1)}-", text)


def _parser_text(unit: _Unit, docs: Sequence[Document], truecase: bool = True) -> str:
    """What the parser reads for ``unit``: a headline in title case or capitals in sentence case
    (claimmatch/truecase.py), judged by how its article's body prints each word; a one-line document has
    no body, so only the word list judges it."""
    text = parser_form(unit.text)
    if not (truecase and unit.headline) or headline_case(text) is None:
        return text
    return sentence_case(text, None if unit.sole or not unit.is_title else CaseEvidence(docs[unit.doc].text))


def _is_named(phrase: str) -> bool:
    """A pronoun antecedent names someone: "General Valery Gerasimov", "Wael al-Halqi", not "Russia's patience"."""
    words = phrase.split()
    return bool(words) and any(c.isupper() for c in words[-1]) and words[0].lower() not in PERSON_PRONOUNS


def extract_claims(docs: Sequence[Document], batch_size: int = 256, *, truecase: bool = True) -> pl.DataFrame:
    """Claims of all documents, in document then sentence order, with the schema of ``CLAIM_COLUMNS``.
    ``truecase=False`` parses headlines as printed (benchmarks/title_frames.py measures the difference)."""
    units = _units(docs)
    columns: dict[str, list] = {name: [] for name in CLAIM_SCHEMA}
    last_named: dict[int, str] = {}
    previous: tuple[int, int, str | None] | None = None  # (doc, end offset, subject) of the last body sentence
    for unit, parsed in zip(units, parse((_parser_text(u, docs, truecase) for u in units), batch_size), strict=True):
        doc = docs[unit.doc]
        if unit.headline:
            parsed = restore_words(parsed, parser_form(unit.text))
        props = propositions(parsed, headline=unit.headline, min_words=1 if unit.sole else 2)
        if unit.lead is not None and (_POSSESSIVE.search(unit.lead) or unit.offset == unit.sent_offset):
            props = [_with(p, speaker=p.speaker or unit.lead) for p in props]
        antecedent = None
        if previous is not None and previous[0] == unit.doc and not unit.is_title \
                and "\n\n" not in doc.text[previous[1]:unit.offset]:
            antecedent = previous[2]
        props = [_resolve_it(p, antecedent) for p in props]
        if not unit.is_title:
            previous = (unit.doc, unit.offset + len(unit.text), props[0].subject if props else None)
        props = [p for p in props if not _contentless(p)]
        for k, p in enumerate(props):
            speaker = p.speaker
            if speaker and speaker.lower() in PERSON_PRONOUNS:
                speaker = last_named.get(unit.doc, speaker)
            elif speaker and _is_named(speaker):
                last_named[unit.doc] = speaker
            if not unit.is_title and p.agent and _is_named(p.agent) and p.agent.lower() not in PERSON_PRONOUNS:
                last_named[unit.doc] = p.agent  # "UN envoy Staffan de Mistura is due …. He said …"
            row = {
                "claim_id": f"{doc.doc_id}#{unit.sentence_id}.{k}", "doc_id": doc.doc_id, "outlet": doc.outlet,
                "title": doc.title, "url": doc.url, "sentence_id": unit.sentence_id, "sentence": unit.sentence,
                "sentence_start": unit.sent_offset,
                "char_start": unit.offset + p.start, "char_end": unit.offset + p.end, "text": p.text,
                "speaker": speaker, "reporting_verb": p.reporting_verb, "stance": p.stance, "negated": p.negated,
                "modality": p.modality, "agent": p.agent, "predicate": p.predicate, "patient": p.patient,
                "entities": p.entities, "numbers": p.numbers, "dates": p.dates, "is_title": unit.is_title,
            }
            for name, value in row.items():
                columns[name].append(value)
    return pl.DataFrame(columns, schema=CLAIM_SCHEMA)


_THING = re.compile(r"^(?:The|This|That)\s+[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*){0,2}$")


def _resolve_it(p: Proposition, antecedent: str | None) -> Proposition:
    """ "But it has been widely violated by the regime forces." after "The ceasefire came into effect …":
    name the ceasefire, so the claim stands on its own. Only a passive "it" and a plain "The <noun>" subject
    of the previous sentence in the paragraph (an active "it" refers too loosely to be resolved by rule)."""
    if not (p.passive and antecedent and p.subject and p.subject.lower() == "it" and _THING.match(antecedent)
            and p.text.startswith("It ")):
        return p
    return replace(p, text=antecedent + p.text[2:], subject=antecedent,
                   patient=antecedent if (p.patient or "").lower() == "it" else p.patient)


def _with(p: Proposition, **changes) -> Proposition:
    return replace(p, **changes)


def documents_without_claims(docs: Sequence[Document], claims: pl.DataFrame) -> list[str]:
    """Ids of documents that gave no claim, in input order (run.json names them)."""
    have = set(claims["doc_id"].to_list())
    return [d.doc_id for d in docs if d.doc_id not in have]
