"""Headlines in title case or capitals, put in sentence case for the parser.

The small English parser reads case: "CBS Realigns Entertainment Divisions" gives the predicate "division",
"BRAZIL CRITICISES ADVISORY COMMITTEE STRUCTURE" one proper-noun run of four words, "Nokia To Use Holograms"
the predicate "nokia". The same headlines in sentence case ("CBS realigns entertainment divisions") parse
as a reader reads them. So a title-case or all-capitals headline is parsed in sentence case, changed in
place (case only, same length, so every offset holds), and the parse is put back on the original words
(:func:`claimmatch.parser.restore_words`): claims quote what the outlet printed.

A word is lowered when its own article prints it in lower case more often than capitalised inside a
sentence ("rebels", "cease-fire"); without that evidence (a table of headlines), when it is a function
word or a common word of ``lexicon/common_words.json`` (WordNet, built by scripts/build_lexicon.py, names
that are commoner capitalised left out: "May", "China", "Congress"). Everything else keeps its capital.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from pathlib import Path

_COMMON = Path(__file__).resolve().parent / "lexicon" / "common_words.json"
_WORD = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?(?:-[A-Za-z]+)*")
# A capital right after these starts a sentence (or a quote), so it says nothing about the word.
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“‘(\n]\s*|[-–—]\s+)$")
# Capitals that stay capitals in a headline in capitals: country and body abbreviations that spell words.
_KEEP_UPPER = frozenset({"US", "UK", "UN", "EU", "IT", "AIDS", "OPEC", "NATO"})


@functools.cache
def common_words() -> frozenset[str]:
    return frozenset(json.loads(_COMMON.read_text(encoding="utf-8"))["words"])


@functools.cache
def _function_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def headline_case(text: str) -> str | None:
    """"title" (three in four words of three letters or more capitalised, the first word and abbreviations
    aside), "upper" (no lower-case letter, three words or more) or None (sentence case, or too short to tell)."""
    words = _WORD.findall(text)
    if len(words) >= 3 and not any(c.islower() for c in text) and sum(w.isalpha() and len(w) > 1 for w in words) >= 2:
        return "upper"
    rest = [w for w in words[1:] if len(w) >= 3 and w.isalpha() and not w.isupper()]
    if len(rest) >= 2 and sum(w[0].isupper() for w in rest) >= 0.75 * len(rest):
        return "title"
    return None


class CaseEvidence:
    """How an article prints its words: lower case, or capitalised inside a sentence."""

    def __init__(self, text: str = "") -> None:
        self.lower: Counter[str] = Counter()
        self.capital: Counter[str] = Counter()
        for m in _WORD.finditer(text):
            word = m.group()
            if word.islower():
                self.lower[word] += 1
            elif not _SENTENCE_START.search(text[max(0, m.start() - 3):m.start()]):
                self.capital[word.lower()] += 1

    def verdict(self, word: str) -> bool | None:
        """True: printed in lower case more often; False: capitalised more often; None: not seen."""
        low, cap = self.lower[word], self.capital[word]
        return None if low == cap == 0 else low > cap


def _forms(word: str) -> set[str]:
    """The word and its regular bases: "divisions" → "division", "realigns" → "realign", "downplayed" →
    "downplay", "bunking" → "bunk", "stopped" → "stop", "tighter" → "tight"."""
    forms = {word}
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ied", "y"), ("ed", ""), ("ed", "e"), ("ing", ""),
                         ("ing", "e"), ("ier", "y"), ("iest", "y"), ("er", ""), ("est", ""), ("er", "e")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: len(word) - len(suffix)] + repl
            forms.add(base)
            if len(base) >= 4 and base[-1] == base[-2] and not repl:
                forms.add(base[:-1])  # "stopped" → "stopp" → "stop"
    return forms


def _common(word: str) -> bool:
    parts = word.replace("’", "'").split("-")
    return all(p in _function_words() or bool(_forms(p) & common_words()) for p in parts if p)


def _recased(word: str, evidence: CaseEvidence | None, upper: bool) -> str:
    """``word`` (as printed in a title-case or, with ``upper``, an all-capitals headline) as a sentence would
    print it: lower case when the article or the word list says so, else a name ("Brazil", "Cincinnati")
    or, in capitals of three letters or fewer, an abbreviation ("GM", "US") kept as printed."""
    low = word.lower()
    abbreviation = upper and (word in _KEEP_UPPER or len(word) <= 3)
    lowered = evidence.verdict(low) if evidence is not None else None
    if lowered is None:
        lowered = not (abbreviation and (word in _KEEP_UPPER or low not in _function_words())) and _common(low)
    if lowered:
        return low
    if not upper or abbreviation:
        return word
    return "-".join(p[:1] + p[1:].lower() for p in word.split("-"))


# "May" is the modal unless a date says otherwise ("in May", "May 5").
_MONTH_BEFORE = frozenset("in on since until by from of last next early late mid".split())


def _month(text: str, start: int, end: int) -> bool:
    before = text[:start].split()
    return (bool(before) and before[-1].lower() in _MONTH_BEFORE) or bool(re.match(r"\s+\d", text[end:]))


def sentence_case(text: str, evidence: CaseEvidence | None = None) -> str:
    """``text`` in sentence case if it is a title-case or all-capitals headline, else ``text`` itself. Only
    the case of ASCII letters changes, so the result has the same length and offsets."""
    kind = headline_case(text)
    if kind is None:
        return text
    out = list(text)
    first = True
    for m in _WORD.finditer(text):
        word = m.group()
        if kind == "title" and not (word[0].isupper() and word[1:] == word[1:].lower() or "-" in word):
            first = False
            continue  # "CBS", "iTunes", "JBoss", "of": as printed
        if first:  # the sentence's first word keeps its capital
            new = word[0] + (word[1:].lower() if kind == "upper" else word[1:])
            first = False
        elif word.lower() == "may" and _month(text, m.start(), m.end()):
            new = word[0] + word[1:].lower()
        else:
            new = _recased(word, evidence, kind == "upper")
        out[m.start():m.end()] = new
    return "".join(out)
