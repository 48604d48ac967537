"""Turn cleaned articles into a claims table: one row per sentence that states something.

Attribution matters for contradiction finding: "X said P" and "Y denied P" are not the outlet asserting
P, and outlets quoting the same source should match on P (the ``core``), not on the framing. The
attribution rules are regex heuristics over common news reporting frames; no NLP model is needed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from claimmatch.records import CLAIM_COLUMNS, Document
from claimmatch.segment import split_sentences

CLAIM_SCHEMA = {
    "claim_id": pl.String, "doc_id": pl.String, "outlet": pl.String, "title": pl.String, "url": pl.String,
    "text": pl.String, "char_start": pl.Int64, "char_end": pl.Int64, "speaker": pl.String,
    "quoted": pl.Boolean, "core": pl.String, "sent_index": pl.Int64,
}
assert list(CLAIM_SCHEMA) == CLAIM_COLUMNS

OPENERS = "“«\""
CLOSERS = "”»\""
_ALL_QUOTES = "“”«»\"‘’'"
_TERMINAL = ".!?…"

# Verbs whose complement is the reported proposition ("that" optional).
_SAY = (
    r"said|says|say|stated|states|added|adds|insisted|insists|argued|argues|claimed|claims|asserted|asserts|"
    r"stressed|stresses|wrote|writes|alleged|alleges|contended|contends|affirmed|"
    r"predicted|estimated|suggested|suggests|believes|responded(?: by)? saying|replied(?: by)? saying|"
    r"went on to say|was quoted as saying|were quoted as saying|is quoted as saying"
)
# Verbs that take an object first; the proposition follows "that" ("told reporters that P").
_TELL = r"told|tells|tell|warned|warns|warn|assured|assures|informed|informs|reminded|reminds|telling|warning"
# Verbs that report but whose bare object is a noun phrase: the proposition only follows "that".
_REPORT = (
    r"reported|reports|report|noted|notes|explained|explains|announced|announces|confirmed|confirms|"
    r"acknowledged|acknowledges|admitted|admits|revealed|reveals|disclosed|declared|declares|emphasi[sz]ed|"
    r"pointed out|made it clear|made clear|reiterated|concluded|observed|indicated|indicates"
)
# Verbs whose removal would flip or lose the proposition ("denied P" is not P): core stays the sentence.
_POLAR = (
    r"denied|denies|deny|denying|rejected|rejects|reject|rejecting|blamed|blames|blame|blaming|"
    r"accused|accuses|accuse|accusing|condemned|condemns|condemn|urged|urges|urge|dismissed|dismisses"
)
_VERB = rf"(?:{_SAY}|{_TELL}|{_REPORT}|{_POLAR})"
_ADVERBS = (
    r"(?:also|has|have|had|is|are|was|were|then|later|earlier|first|further|previously|again|once|meanwhile|"
    r"reportedly|repeatedly|already|now|\w+ly)"
)
_FRAME = re.compile(rf"^(?P<subj>.+?)\s+(?P<adv>(?:{_ADVERBS}\s+){{0,3}})(?P<verb>{_VERB})\b(?P<after>.*)$", re.S)
_TIME = (
    r"(?:on|in|at|during|via|through|to|last|this|earlier|later|late|early|yesterday|today|recently|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day)\b"
)
# A time or setting phrase between a speech verb and its clause ("said last week he would go").
_TIME_PHRASE = (
    r"(?:(?:on|last|this|next|late|early)\s+)?(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|week|month|year|"
    r"night|morning|evening|weekend)(?:\s+(?:morning|evening|night|afternoon))?|earlier|yesterday|today|recently|"
    r"on\s+[A-Z][a-z]+\.?\s+\d{1,2}|in\s+(?:a|an|the)\s+(?:statement|interview|speech|letter|post|briefing)"
    r"(?:\s+(?:to|with|on)\s+[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*){0,3})?"
)
_PRONOUNS = {"he", "she", "him", "her", "they", "them", "we", "us", "i", "me", "it"}
_PERSON_PRONOUNS = {"he", "she", "him", "her"}
_FIRST_PERSON = {"i", "me"}
_SUBJECT_STOP = {
    "that", "which", "who", "whom", "whose", "is", "are", "was", "were", "be", "been", "being", "will", "would",
    "could", "can", "should", "may", "might", "must", "do", "does", "did", "not", "if", "because", "when",
    "while", "although", "though", "since", "than", "there", "what", "where", "how", "why", "it's", "its",
}
_INTRO_WORDS = {
    "earlier", "later", "meanwhile", "however", "but", "and", "in", "on", "at", "during", "after", "before",
    "also", "separately", "still", "yet", "last", "then", "now", "interestingly", "moreover", "furthermore",
    "instead", "since", "while", "when", "as", "with", "under", "for", "from", "by", "yesterday", "today",
    "speaking", "addressing", "asked", "responding", "writing", "thus", "therefore", "so", "indeed", "again",
}
_PREPOSITIONS = {"in", "on", "at", "during", "after", "before", "under", "with", "from", "for", "by", "over"}
_BAD_CORE_START = {"to", "of", "by", "for", "with", "from", "about", "as", "and", "or", "but", "if", "at", "into"}
_DETERMINERS = {"the", "a", "an", "this", "that", "these", "those", "its", "their", "his", "her", "our", "one"}
_NOT_SUBJECT_END = _DETERMINERS | _BAD_CORE_START | _PREPOSITIONS | {
    "then", "entire", "whole", "no", "any", "some", "most", "many", "several", "few", "both", "each", "all",
    "other", "such", "more", "less",
}
_NOT_SPEAKER = {"as", "if", "when", "while", "because", "since", "although", "though", "so", "and", "but", "or"}
_POSSESSIVE_LEADIN = re.compile(
    r"^(?P<who>(?:[A-Z][\w.-]*\s+){0,5}[A-Z][\w.-]*)[’']s?\s+(?:comments?|remarks?|words|statement|response|"
    r"reply|message|view|answer)\b"
)
_WORD = re.compile(r"[^\W_](?:[\w'’.-]*\w)?")


@dataclass
class _Attribution:
    speaker: str
    core: str
    kind: str  # "quote-first", "post", "frame", "according"
    sentence: str = ""  # the text parsed; core == sentence means no proposition could be split off


def _words(s: str) -> list[str]:
    return _WORD.findall(s)


def _strip_closers(s: str) -> str:
    return s.rstrip().rstrip(_ALL_QUOTES + ")]").rstrip()


def _is_statement(sentence: str) -> bool:
    """Questions, headings and short fragments say nothing checkable."""
    body = _strip_closers(sentence)
    if not body or body[-1] not in ".!…" or len(_words(sentence)) < 4:
        return False
    words = [w for w in _words(sentence) if len(w) > 3]
    titled = sum(w[0].isupper() for w in words)
    return not (len(_words(sentence)) <= 12 and words and titled / len(words) >= 0.8)


def _tidy(core: str) -> str:
    """Drop unbalanced outer quote marks, end with a full stop, capitalise: a clean proposition for NLI."""
    core = core.strip().strip(",;: ").strip()
    opens = sum(core.count(c) for c in "“«")
    closes = sum(core.count(c) for c in "”»")
    if (core[:1] in "“«" and opens > closes) or (core[:1] == '"' and core.count('"') % 2):
        core = core[1:].lstrip()
    while closes > opens and (m := re.search(r"[”»]([.!?…]*)$", core)):
        core, closes = core[: m.start()].rstrip() + m.group(1), closes - 1
    if core[-1:] == '"' and core.count('"') % 2:
        core = core[:-1].rstrip()
    core = core.rstrip(",;: ")
    if len(core) > 2 and core[0] in OPENERS and core[-1] in CLOSERS:
        inner = core[1:-1]
        if inner.count("“") == inner.count("”") and inner.count("«") == inner.count("»") and inner.count('"') % 2 == 0:
            core = inner.strip().rstrip(",;: ")
    if core and _strip_closers(core)[-1:] not in _TERMINAL:
        core += "."
    if core[:1].islower():
        core = core[0].upper() + core[1:]
    return core


def _valid_core(core: str) -> bool:
    words = _words(core)
    return len(words) >= 3 and words[0].lower() not in _BAD_CORE_START


def _trim_speaker(who: str, after_verb: bool) -> str | None:
    """Reduce a subject/agent phrase to the speaker: drop intro phrases and trailing appositions."""
    who = who.strip().strip(",;:—–- ").strip()
    if after_verb:
        who = who.split(",")[0].strip()
        who = re.split(r"\s+(?:on|in|at|during|last|after|before|when|while|who|which)\b", who)[0]
    else:
        segments = [s.strip() for s in who.split(",")]
        segments = [s for s in segments if s]
        while len(segments) > 1 and segments[0].split()[0].lower() in _INTRO_WORDS | {"according"} or (
            len(segments) > 1 and (segments[0].split()[0].lower().endswith(("ly", "ing")))
        ):
            segments.pop(0)
        if not segments:
            return None
        closed_apposition = who.rstrip().endswith(",") or len(segments) > 1
        who = segments[0] if closed_apposition and len(segments) > 1 else ", ".join(segments)
        first = who.split()[0].lower() if who.split() else ""
        if first in _PREPOSITIONS and len(who.split()) > 1:
            tokens = who.split()
            if _is_pronoun(tokens[-1]):
                who = tokens[-1]
            else:
                run: list[str] = []
                for tok in reversed(tokens):
                    if not tok[:1].isupper():
                        break
                    run.insert(0, tok)
                if not run:
                    return None
                who = " ".join(run)
    words = who.split()
    if not words or words[0].lower() in _NOT_SPEAKER or words[-1].lower() in _NOT_SUBJECT_END - {"one"}:
        return None
    if len(words) > 12 or any(w.lower().strip(",") in _SUBJECT_STOP for w in words):
        return None
    if any(c in who for c in _ALL_QUOTES.replace("’", "").replace("'", "")):
        return None
    return who


def _quote_first(sentence: str, starts_inside: bool) -> _Attribution | None:
    """“P,” said X / “P,” X said / «P», one of them explained."""
    if not (sentence[:1] in OPENERS or starts_inside):
        return None
    for match in re.finditer(r"[”»\"](?=\s*,?\s+\w)", sentence):
        quote_end = match.start()
        tail = sentence[match.end():].strip().lstrip(",").strip()
        tail = _strip_closers(tail).rstrip(".!…").strip()
        if any(c in tail for c in "“”«»\""):
            continue
        quote = sentence[1:quote_end] if sentence[:1] in OPENERS else sentence[:quote_end]
        m = re.match(rf"^(?:{_SAY}|{_REPORT}|{_TELL})\s+(?P<who>.+)$", tail)
        if m and not m.group("who").lower().startswith("that "):
            who = _trim_speaker(m.group("who"), after_verb=True)
            if who:
                return _Attribution(who, _tidy(quote), "quote-first")
        m = re.match(rf"^(?P<who>.+?)\s+(?:{_ADVERBS}\s+){{0,2}}(?:{_SAY}|{_REPORT}|{_TELL})\b(?P<rest>.*)$", tail)
        if m and len(m.group("rest").split()) <= 8:
            who = _trim_speaker(m.group("who"), after_verb=False)
            if who:
                return _Attribution(who, _tidy(quote), "quote-first")
    return None


def _post_attribution(sentence: str) -> _Attribution | None:
    """P, X said on Sunday(, as ...)."""
    m = re.match(
        rf"^(?P<core>.+?),\s+(?P<who>[^,“”«»\"]{{2,80}}?)\s+(?:{_ADVERBS}\s+)?(?:{_SAY}|{_REPORT})\b"
        rf"(?P<tail>[^,]*?)(?:,\s*(?:as|while|adding|but|and|saying|amid)\b.*)?[.!…]?$",
        _strip_closers(sentence),
        re.S,
    )
    if not m:
        return None
    tail = m.group("tail").strip()
    if tail and (len(tail.split()) > 6 or not re.match(_TIME, tail, re.I)):
        return None
    who = _trim_speaker(m.group("who"), after_verb=False)
    core = m.group("core")
    if not who or len(_words(core)) < 4 or core.strip()[:1] in OPENERS:
        return None
    return _Attribution(who, _tidy(core), "post")


def _frame(sentence: str, depth: int = 0) -> _Attribution | None:
    """X said (that) P / X told Y that P / X denied ...; recurses so "Reuters reports X told ..." gives X."""
    m = _FRAME.match(sentence)
    if not m or len(m.group("subj").split()) > 25:
        return None
    subj_words = m.group("subj").rstrip(", ").split()
    if not subj_words:  # ", said the company." (a fragment left by cleaning): no speaker to name
        return None
    if subj_words[-1].lower() in _NOT_SUBJECT_END:
        # "X withdrew forces, but maintained ...", "the entire blame", "A flood of reports": not a speaker
        return None
    who = _trim_speaker(m.group("subj"), after_verb=False)
    if not who:
        return None
    verb, after = m.group("verb"), m.group("after")
    core: str | None = None
    if re.fullmatch(_POLAR, verb):
        core = sentence
    else:
        that = re.match(r"^\s*(?P<mid>[^“”«»\":]{0,120}?)\s*\bthat\s+(?P<core>.+)$", after, re.S)
        mid_ok = that is not None and (
            not that.group("mid").strip()
            or (len(that.group("mid").split()) <= 12 and (re.fullmatch(_TELL, verb) or re.match(_TIME, that.group("mid").strip(), re.I)))
        )
        if that and mid_ok and _valid_core(that.group("core")):
            core = that.group("core")
        elif re.fullmatch(_TELL, verb):
            told = re.match(r"^\s*(?P<mid>[^“”«»\":]{0,120}?)\s*[:,]?\s*(?P<core>[“«\"].+)$", after, re.S)
            if told and len(told.group("mid").split()) <= 8:
                core = told.group("core")
        elif re.fullmatch(_SAY, verb):
            bare = re.match(rf"^(?:\s+(?:{_TIME_PHRASE}))?\s*[,:]?\s*(?P<core>.+)$", after, re.S | re.I)
            if bare and _valid_core(bare.group("core")):
                core = bare.group("core")
        if not _words(after):  # "A source said." attributes what follows, states nothing itself
            return _Attribution(who, "", "frame")
        if core is None and depth == 0:
            inner = _frame(after.strip().lstrip(",:").strip(), depth + 1)
            if inner and inner.speaker[:1].isupper() and inner.core != inner.sentence:
                return inner
        if core is None:
            core = sentence
    if core is not sentence and depth < 2:
        inner = _frame(core.strip(), depth + 1)
        # "Reuters reports X told ... that P": X is the source. "Y said Russia blames Z" stays Y's claim.
        if inner and inner.speaker[:1].isupper() and not _is_pronoun(inner.speaker) and inner.core != inner.sentence:
            return inner
    return _Attribution(who, sentence if core is sentence else _tidy(core), "frame", sentence)


def _according(sentence: str) -> _Attribution | None:
    """According to X, P / P, according to X / P, as affirmed by X."""
    m = re.match(r"^According to (?P<who>[^,]{2,80}),\s*(?P<core>.+)$", sentence, re.S)
    if m:
        return _Attribution(m.group("who").strip(), _tidy(m.group("core")), "according")
    m = re.match(
        r"^(?P<core>.+?),?\s+(?:according to|as (?:affirmed|stated|said|reported|noted|confirmed|claimed) by)\s+"
        r"(?P<who>[^,“”«»\"]{2,80}?)[.!]?[”»\"]?$",
        sentence,
        re.S,
    )
    if m and len(_words(m.group("core"))) >= 4:
        core = m.group("core").strip()
        inner = _frame(core + ".")
        if inner and not _is_pronoun(inner.speaker):
            return inner
        who = _trim_speaker(m.group("who"), after_verb=True)
        if who:
            return _Attribution(who, _tidy(core), "according")
    return None


def attribute(sentence: str, starts_inside: bool = False) -> _Attribution | None:
    """Speaker and core of one sentence, or None when the outlet asserts it itself."""
    for rule in (
        lambda s: _quote_first(s, starts_inside),
        _according,
        _post_attribution,
        _frame,
    ):
        found = rule(sentence)
        if found:
            return found
    return None


def _quote_mask(text: str) -> bytearray:
    """1 for characters inside a quotation; a quote left open at a paragraph end runs on until it closes."""
    mask = bytearray(len(text))
    paragraphs = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+(?:\n(?!\s*\n)[^\n]*)*", text)]

    def scan(start: int, end: int, depth: int, write: bool) -> tuple[int, bool]:
        unmatched_close = False
        for i in range(start, end):
            ch = text[i]
            if ch in "“«" or (ch == '"' and (depth == 0 or i == start)):
                depth += 1
            elif ch in "”»" or ch == '"':
                if depth == 0:
                    unmatched_close = True
                depth = max(depth - 1, 0)
                if write:
                    mask[i] = 1
            if write and depth > 0:
                mask[i] = 1
        return depth, unmatched_close

    info = []
    for s, e in paragraphs:
        end_depth, unmatched = scan(s, e, 0, write=False)
        stripped = text[s:e].lstrip()
        info.append((stripped[:1] in OPENERS, unmatched, end_depth > 0))
    carried = False
    for idx, (s, e) in enumerate(paragraphs):
        starts_open, unmatched, _ = info[idx]
        depth = 0
        if carried and not starts_open:
            runs_on = unmatched or any(
                info[j][1] for j in range(idx + 1, min(idx + 9, len(info)))
                if not any(info[k][0] for k in range(idx + 1, j + 1))
            )
            depth = 1 if runs_on else 0
        end_depth, _ = scan(s, e, depth, write=True)
        carried = end_depth > 0
    return mask


def _inside_ratio(mask: bytearray, text: str, start: int, end: int) -> float:
    alnum = [i for i in range(start, end) if text[i].isalnum()]
    return sum(mask[i] for i in alnum) / len(alnum) if alnum else 0.0


def _is_named(speaker: str) -> bool:
    """Looks like a named person/entity usable as a pronoun antecedent ("Dmitry Sablin", not "the army")."""
    tokens = speaker.split()
    if not tokens or tokens[0].lower() in _DETERMINERS or _is_pronoun(tokens[0]):
        return False
    return any(c.isupper() for c in tokens[-1])


def _is_pronoun(word: str) -> bool:
    """"us"/"it" are pronouns, "US"/"IT" are not."""
    return word.lower() in _PRONOUNS and (word == "I" or not word.isupper())


def _leading_subject(sentence: str) -> str | None:
    """Subject of an unattributed sentence ("UN envoy Staffan de Mistura is due ..."): a pronoun antecedent."""
    m = re.match(
        r"^(?P<subj>[^,;:“”«»\"]{3,60}?)\s+(?:is|was|are|were|has|had|have|will|would|met|arrived|visited|said)\b",
        sentence,
    )
    if m and _is_named(m.group("subj")) and len(m.group("subj").split()) <= 6:
        return m.group("subj")
    return None


class _Speakers:
    """Per-document memory of who spoke, to resolve "he" and expand "Lavrov" to the fuller first mention."""

    def __init__(self) -> None:
        self.named: list[str] = []
        self.last_named: str | None = None
        self.last: str | None = None
        self.quote_speaker: str | None = None

    def expand(self, speaker: str) -> str:
        tokens = speaker.split()
        if tokens and _is_named(speaker):
            for full in reversed(self.named):
                if len(full.split()) > len(tokens) and full.split()[-len(tokens):] == tokens:
                    return full
        return speaker

    def resolve(self, speaker: str, inside_quote: bool, antecedent: str | None) -> str:
        low = speaker.lower()
        if low in _PERSON_PRONOUNS:
            return antecedent or self.last_named or speaker
        if low in _FIRST_PERSON and inside_quote and self.quote_speaker:
            return self.quote_speaker
        return self.expand(speaker)

    def note(self, speaker: str) -> None:
        self.last = speaker
        if _is_named(speaker):
            self.named.append(speaker)
            self.last_named = speaker


def _doc_claims(doc: Document) -> list[dict]:
    text = doc.text
    spans = split_sentences(text)
    mask = _quote_mask(text)
    speakers = _Speakers()
    sentences = [" ".join(text[a:b].split()) for a, b in spans]
    rows: list[dict] = []
    antecedent: str | None = None
    previous: str | None = None  # previous sentence in the same paragraph
    prev_par_end = -1
    for idx, (start, end) in enumerate(spans):
        sentence = sentences[idx]
        same_paragraph = "\n\n" not in text[prev_par_end:start] if prev_par_end >= 0 else False
        if not same_paragraph:
            antecedent = previous = None
        prev_par_end = end
        starts_inside = bool(mask[start]) and text[start] not in OPENERS
        inside = _inside_ratio(mask, text, start, end) >= 0.9
        found = attribute(sentence, starts_inside=starts_inside)
        speaker: str | None = None
        quoted = False
        core = sentence
        if found:
            speaker = speakers.resolve(found.speaker, inside or starts_inside, antecedent)
            quoted, core = True, found.core
            speakers.note(speaker)
            if found.kind == "quote-first" or not inside:
                speakers.quote_speaker = speaker
        elif inside:
            speaker = _forward_speaker(sentences, spans, text, mask, idx) or speakers.quote_speaker or speakers.last
            if speaker:
                speaker = speakers.resolve(speaker, True, antecedent)
            quoted, core = True, _tidy(sentence)
        else:
            lead = _POSSESSIVE_LEADIN.match(sentence)
            if lead and sentence.rstrip().endswith(":"):
                speakers.quote_speaker = speakers.expand(lead.group("who"))
            elif re.search(rf"\b(?:{_SAY})\s*:$", sentence.rstrip()):
                m = _FRAME.match(sentence)
                who = _trim_speaker(m.group("subj"), after_verb=False) if m else None
                if who:
                    speakers.quote_speaker = speakers.resolve(who, False, antecedent)
        antecedent = _leading_subject(sentence) or (speaker if speaker and _is_named(speaker) else antecedent)
        before, previous = previous, sentence
        if not _is_statement(sentence) or (quoted and not _is_statement(core)):
            continue
        rows.append({
            "claim_id": f"{doc.doc_id}#{len(rows):03d}", "doc_id": doc.doc_id, "outlet": doc.outlet,
            "title": doc.title, "url": doc.url, "text": sentence, "char_start": start, "char_end": end,
            "speaker": speaker if quoted else None, "quoted": quoted,
            "core": core if quoted else _resolve_it(sentence, before),
            "sent_index": idx,
        })
    return rows


_IT_SUBJECT = re.compile(
    r"^(?P<lead>(?:(?:But|And|Yet|However|Still),?\s+)?)[Ii]t\s+"
    r"(?=(?:has|had|have)\s+been\b|(?:was|is|were)\s+(?:\w+ly\s+)?\w+(?:ed|en)\b)"
)
_THING_SUBJECT = re.compile(
    r"^(?:(?:But|And|Yet|However),?\s+)?(?P<np>(?:The|This|That)\s+[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*){0,2}?)"
    r"\s+(?:came|comes|has|had|was|is|will|would|began|took|remains|remained)\b"
)


def _resolve_it(sentence: str, previous: str | None) -> str:
    """ "But it has been widely violated ..." after "The ceasefire came into effect ...": name the ceasefire.

    Only a passive or perfect "it" (not "it is clear that", "it was agreed to") whose previous sentence
    in the paragraph opens with a plain "The <noun>" subject; the core then compares like for like.
    """
    m = _IT_SUBJECT.match(sentence)
    if not m or not previous:
        return sentence
    rest = sentence[m.end():]
    if re.match(r"(?:\w+\s+){1,3}?(?:that|to|whether|if)\b", rest):
        return sentence
    subj = _THING_SUBJECT.match(previous)
    if not subj:
        return sentence
    return subj.group("np") + " " + rest


def _forward_speaker(
    sentences: list[str], spans: list[tuple[int, int]], text: str, mask: bytearray, idx: int
) -> str | None:
    """A quotation's speaker is often named where the quote closes ("...," he said): look ahead for it."""
    for j in range(idx + 1, min(idx + 6, len(spans))):
        if "\n\n" in text[spans[j - 1][1]:spans[j][0]]:
            return None
        start = spans[j][0]
        found = _quote_first(sentences[j], starts_inside=bool(mask[start]))
        if found:
            return found.speaker
        if not mask[start]:
            return None
    return None


def extract_claims(docs: list[Document]) -> pl.DataFrame:
    """Claims of all documents, in document then sentence order, with the schema of ``CLAIM_COLUMNS``."""
    rows = [row for doc in docs for row in _doc_claims(doc)]
    return pl.DataFrame(rows, schema=CLAIM_SCHEMA) if rows else pl.DataFrame(schema=CLAIM_SCHEMA)
