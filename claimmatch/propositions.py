"""Atomic propositions from one parsed sentence: the clause units a sentence asserts, with attribution and frame.

A news sentence often carries several claims ("Assad's government will hold elections on Wednesday, even
though opposition leaders have declared them illegitimate"). Outlets share such sub-claims inside
different sentences, so matching works on clauses, not sentences. The rules read spaCy's dependency parse:

- clause heads: the root, and verbs with their own subject attached as ``conj``, ``advcl``, ``ccomp``,
  ``parataxis`` or non-restrictive ``relcl`` (after a comma); a coordinated verb without a subject
  ("withdrew forces but kept up strikes") borrows its head's subject;
- each clause is its subtree minus the nested clauses split off, so a sentence gives one claim per clause;
- a clause that is the complement of a reporting verb ("X said P", "“P,” said X", "According to X, P")
  gets X as ``speaker`` and the verb; the frame itself ("X said") is not a claim;
- a non-restrictive apposition with a verb about a named thing ("Aleppo, the city that may prove ...")
  becomes "Aleppo is the city that may prove ...".

Each proposition carries a frame (agent, predicate lemma, patient), negation, modality, proper-noun
entities, numbers and dates, used by the same-claim judge (claimmatch/judge.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Verbs whose clausal complement is the reported proposition; the value is the speaker's stance.
REPORTING = {
    **dict.fromkeys(
        "say tell report add state claim insist argue assert stress write allege warn announce confirm "
        "acknowledge admit reveal declare explain note believe suggest predict estimate emphasise emphasize "
        "reiterate respond reply think know accuse charge contend maintain affirm indicate quote "
        "comment agree conclude observe testify tweet post".split(), "asserts"),
    **dict.fromkeys("deny reject dismiss refute".split(), "denies"),
    **dict.fromkeys("doubt question dispute".split(), "doubts"),
}
MODAL_AUX = {"will", "would", "may", "might", "could", "can", "should", "must", "shall"}
# Verbs whose infinitive complement is the act ("plans to hold elections": predicate hold, modality plans).
INTENT = {"plan": "plans", "intend": "plans", "aim": "plans", "prepare": "plans", "expect": "expects",
          "hope": "hopes", "want": "wants", "seek": "seeks", "threaten": "threatens", "try": "tries",
          "promise": "promises", "vow": "promises", "pledge": "promises", "refuse": "refuses", "fail": "fails"}
# Reporting verbs whose object is the addressee, not content ("told lawmakers that P").
TELL = {"tell", "warn", "inform", "assure", "remind", "urge", "brief"}
# Nouns whose "that" clause is a reported proposition ("there are reports that P").
REPORTING_NOUNS = {"report", "claim", "statement", "allegation", "word", "news", "assurance", "sign", "fact",
                   "belief", "view", "suggestion", "rumour", "rumor", "accusation", "charge", "warning"}
# Aspectual verbs: "keep on breaching the ceasefire" is about breaching (no modality).
ASPECT = {"keep", "continue", "begin", "start", "stop", "cease", "go on"}
# Verbs that stand in for an elided verb phrase ("before the allies do", "as it has").
PRO_VERBS = {"do", "have", "be"}
# Dependents of a verb with nothing elided beyond them: a clause with only these says nothing on its own.
ELLIPSIS_DEPS = {"nsubj", "nsubjpass", "expl", "punct", "advmod", "npadvmod", "neg", "aux", "auxpass", "mark", "cc", "intj"}
FINITE_OR_PARTICIPLE = {"VBD", "VBZ", "VBP", "VB", "VBN", "VBG", "MD"}
SUBJECTS = {"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"}
CLAUSE_DEPS = {"conj", "advcl", "ccomp", "parataxis", "relcl"}
RELATIVE = {"which", "who", "whom", "that", "whose"}
PERSON_PRONOUNS = {"he", "she", "they", "him", "her", "them"}
IMPERSONAL = {"it", "this", "that", "there"}
PLACE_TIME_PREPS = {"near", "at", "around", "across", "inside", "outside", "beyond", "during", "after", "before",
                    "since", "until", "till", "throughout", "amid", "among"}
QUOTES = set("“”«»\"‘’„‹›") | {"''", "``"}
_MONTHS = ("january february march april may june july august september october november december jan feb mar "
           "apr jun jul aug sep sept oct nov dec").split()
DATE_WORDS = {*_MONTHS, "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "today",
              "yesterday", "tomorrow", "tonight"}
_YEAR = re.compile(r"^(?:1[89]|20|21)\d\d$")


@dataclass
class Proposition:
    """One atomic claim of a sentence; offsets are relative to the sentence text."""

    text: str
    start: int
    end: int
    speaker: str | None = None
    reporting_verb: str | None = None
    stance: str = "asserts"
    negated: bool = False
    modality: str | None = None
    agent: str | None = None
    predicate: str | None = None
    patient: str | None = None
    entities: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)
    subject: str | None = None  # the grammatical subject (for "it" resolution in claimmatch/claims.py)
    passive: bool = False


def _join(tokens) -> str:
    """Tokens as text with their original spacing; gaps where tokens were removed become one space."""
    out: list[str] = []
    prev = None
    for t in tokens:
        if prev is not None:
            out.append(prev.whitespace_ if t.i == prev.i + 1 else " ")
        out.append(t.text)
        prev = t
    return " ".join("".join(out).split())


def _phrase(tok, drop: set[int] | None = None, bare: bool = False) -> str:
    """A noun phrase: the token's subtree without relative clauses, appositions and quote marks.

    ``bare`` (speakers) also drops prepositional phrases other than "of" ("an official in comments to TV").
    """
    return _join(_phrase_tokens(tok, drop, bare))


def _phrase_tokens(tok, drop: set[int] | None = None, bare: bool = False) -> list:
    """The tokens of :func:`_phrase`."""
    skip: set[int] = set(drop or ())
    for t in tok.subtree:
        if t.i in skip:
            continue
        if t.dep_ in {"relcl", "appos", "acl"} or (t.dep_ == "punct" and t.head.i == tok.i and t.i > tok.i) or (
                bare and t.dep_ == "prep" and t.lower_ != "of"):
            skip.update(x.i for x in t.subtree)
    toks = [t for t in tok.subtree if t.i not in skip and t.text not in QUOTES]
    while toks and (toks[-1].is_punct or toks[-1].dep_ == "cc"):
        toks.pop()
    return toks


def _subject(head):
    for child in head.children:
        if child.dep_ in SUBJECTS:
            return child
    return None


def _is_clause_head(tok) -> bool:
    if tok.dep_ == "ROOT":
        return True
    if tok.dep_ not in CLAUSE_DEPS or tok.pos_ not in {"VERB", "AUX"}:
        return False
    if tok.dep_ == "relcl":
        # Non-restrictive only ("Nusra Front, which were excluded"): a comma or dash before the clause.
        first = min(t.i for t in tok.subtree)
        return first > 0 and tok.doc[first - 1].text in {",", "—", "–", "("}
    if tok.dep_ == "ccomp" and tok.head.lemma_.lower() not in REPORTING and not any(
            c.dep_ == "mark" for c in tok.children) and not _comma_splice(tok):
        return False  # "make militants split off": a complement, not a clause of its own
    if tok.dep_ in {"advcl", "ccomp"} and tok.tag_ == "VBG" and not any(
            c.dep_ in {"aux", "auxpass", "mark"} for c in tok.children):
        return False  # "decreased its forces operating in Syria": a participle with a subject, not a clause
    if tok.dep_ == "conj":
        base = tok
        while base.dep_ == "conj":
            base = base.head
        return _is_clause_head(base) and (_subject(tok) is not None or _subject(base) is not None)
    return _subject(tok) is not None


_SPLICE_OPENERS = {"intj", "punct", "advmod", "cc", "discourse"}
_SPLICE_COMPLEMENTS = {"dobj", "attr", "acomp", "xcomp", "dative", "oprd", "ccomp", "agent"}


def _comma_splice(tok) -> bool:
    """ "No, Iran cannot help the US in Syria, its goal is …": a clause with its own subject before a comma and
    another clause, which the parser hangs on the second clause's verb as if that verb reported it."""
    start, end, head = min(t.i for t in tok.subtree), max(t.i for t in tok.subtree), tok.head
    subject, own_subject = _subject(head), _subject(tok)
    if not (tok.i < head.i and own_subject is not None and end + 1 < head.i and tok.doc[end + 1].text in {",", ";"}
            and subject is not None and subject.i > end):
        return False
    # The first clause opens the sentence with its subject ("The last time X managed …, his club was …" is
    # not two claims).
    if start != tok.sent.start or any(t.dep_ not in _SPLICE_OPENERS for t in tok.doc[start:own_subject.left_edge.i]):
        return False
    # … and the second its own subject after the comma: not "…, a few days after Intel disclosed …", not a
    # relative "…, that means …".
    if any(t.dep_ not in _SPLICE_OPENERS for t in tok.doc[end + 2:subject.left_edge.i]) or \
            subject.lower_ in RELATIVE:
        return False
    # Neither a first clause that reports the second ("Bud tells DC, a deal is a deal") nor a bare "is"
    # ("The old axiom is; you have to keep shooting").
    if tok.lemma_.lower() in REPORTING or (tok.pos_ == "AUX" and not any(c.i > tok.i and c.dep_ != "punct"
                                                                         for c in tok.children)):
        return False
    # The second clause says something of its own ("blamed the army"); "…, officials fear." only reports it,
    # and "…, the companies plan to announce Tuesday." too.
    if head.lemma_.lower() in INTENT or any(c.dep_ == "xcomp" and c.lemma_.lower() in REPORTING
                                             for c in head.children):
        return False
    return any(c.dep_ in _SPLICE_COMPLEMENTS and c.i > head.i for c in head.children)


def _wh_clause(tok) -> bool:
    """A clause (not a relative clause, nor the sentence) whose subject is "what", "who" or "whom"."""
    subj = _subject(tok)
    return tok.dep_ not in {"ROOT", "relcl"} and subj is not None and subj.tag_ == "WP"


def _elliptical(tok) -> bool:
    """ "before the US and its allies do": a subordinate clause whose verb is a bare auxiliary or pro-verb.

    Its verb phrase is elided (VP ellipsis), so it asserts nothing checkable on its own; it stays inside the
    clause that governs it.
    """
    if tok.dep_ == "ROOT" or not (tok.pos_ == "AUX" or tok.tag_ == "MD" or tok.lemma_.lower() in PRO_VERBS):
        return False
    if _subject(tok) is None:
        return False
    for c in tok.children:
        if c.dep_ not in ELLIPSIS_DEPS:
            return False
        # "are now roughly back to what they were": an adverb with its own phrase is a complement, and after
        # "be" an adverb or adverbial noun is a predicate ("the strikes are back", "the vote is Monday");
        # elsewhere it only places the elided act in time ("than they did last year").
        if c.dep_ == "advmod" and any(True for _ in c.children) or (
                c.dep_ in {"advmod", "npadvmod"} and tok.lemma_.lower() == "be" and c.i > tok.i):
            return False
    return True


def _stranded_subject(head):
    """The main clause's subject when the parser hung it on a preceding subordinate clause, else None.

    Without a comma ("If the US is not complaining about the bombing the same cannot be said of …") the
    parser attaches "the same" to the ``advcl`` as an ``npadvmod``; the main clause is then left without a
    subject. The phrase is that clause's subject when it ends the subordinate clause and the main clause's
    verb group follows it directly.
    """
    if head.dep_ == "conj" or _subject(head) is not None or head.tag_ not in FINITE_OR_PARTICIPLE:
        return None
    verb_group = [head, *(c for c in head.children if c.dep_ in {"aux", "auxpass", "neg"} and c.i < head.i)]
    first = min(t.i for t in verb_group)
    for clause in head.children:
        if clause.dep_ != "advcl" or clause.i > head.i:
            continue
        last = max(t.i for t in clause.subtree)
        for n in clause.children:
            if (n.dep_ == "npadvmod" and n.i > clause.i and n.pos_ in {"NOUN", "PROPN", "PRON", "ADJ"}
                    and max(t.i for t in n.subtree) == last and last + 1 == first):
                return n
    return None


_AS_PREPS = {"as", "while", "after", "before", "since", "because", "when", "until", "though"}


def _as_clause_subject(head):
    """The subject of "X rose as a recovery in U.S. stocks encouraged investors" that the parser took for
    the object of "as" (``pobj``), hanging "encouraged" on "rose" as a ``conj`` with no "and": without this,
    the verb borrows the main clause's subject ("The Nikkei average encouraged investors"). None when a
    coordinating word links the two verbs, or no such phrase ends right before the verb."""
    if head.dep_ != "conj" or _subject(head) is not None or head.tag_ not in {"VBD", "VBZ", "VBP"}:
        return None
    main = head.head
    if any(c.dep_ == "cc" and main.i < c.i < head.i for c in main.children) or any(
            c.dep_ == "cc" for c in head.children):
        return None
    first = min([head.i, *(c.i for c in head.children if c.dep_ in {"aux", "auxpass", "neg", "advmod"}
                           and c.i < head.i)])
    if first == 0:
        return None
    last = head.doc[first - 1]
    for tok in (last, *last.ancestors):
        if tok.i == main.i:
            break
        if (tok.dep_ == "pobj" and tok.head.lower_ in _AS_PREPS
                and max(t.i for t in tok.subtree) == first - 1):
            return tok
    return None


def _headline_shared_subjects(heads, sent) -> dict:
    """Headline verbs that share the subject of the clause before them: "IBM unveils security service, notes
    big jump in attacks" is two acts of IBM. The parser reads the first clause as the complement of the
    second verb, as in quote-first news ("…, notes the report"), so that verb is left without a subject and
    a subjectless "Notes big jump in attacks" came out. Only a finite root verb with no subject, after a
    comma that ends a complement clause with a subject of its own."""
    out = {}
    for h in heads:
        if h.dep_ != "ROOT" or _subject(h) is not None or h.tag_ not in {"VBZ", "VBP", "VBD"}:
            continue
        for c in h.children:
            last = max(t.i for t in c.subtree)
            if (c.dep_ in {"ccomp", "parataxis"} and c.i < h.i and _subject(c) is not None
                    and last + 1 < h.i and sent[last + 1].text == "," and last + 2 == h.i):
                out[h.i] = _subject(c)
                break
    return out


def _noun_clause(tok) -> bool:
    """ "reports that P", "the fact that P": a clause with its own subject under a reporting noun."""
    return (tok.dep_ in {"acl", "ccomp"} and tok.pos_ in {"VERB", "AUX"} and tok.head.pos_ == "NOUN"
            and tok.head.lemma_.lower() in REPORTING_NOUNS and _subject(tok) is not None
            and any(c.dep_ == "mark" and c.lower_ == "that" for c in tok.children))


def _borrowed_subject(head):
    """The subject a coordinated verb shares with the verb it is coordinated with."""
    while head.dep_ == "conj" and _subject(head) is None:
        head = head.head
    return _subject(head)


def _reporter(head):
    """(reporting verb token, stance) when ``head`` is the clausal complement of a reporting verb."""
    if head.dep_ in {"ccomp", "parataxis"} and head.head.lemma_.lower() in REPORTING:
        return head.head, REPORTING[head.head.lemma_.lower()]
    if head.dep_ == "conj":  # "X said P and Q": Q is reported too
        base = head
        while base.dep_ == "conj":
            base = base.head
        if base.i != head.i and base.dep_ in {"ccomp", "parataxis"} and base.head.lemma_.lower() in REPORTING:
            return base.head, REPORTING[base.head.lemma_.lower()]
    return None, None


def _speaker_of(verb) -> str | None:
    """The subject of a reporting verb; "was quoted as saying" reaches up to the subject of "quoted"."""
    tok = verb
    for _ in range(3):
        subj = _subject(tok)
        if subj is not None and subj.dep_ != "expl":
            # "It is propitious to note that P": an impersonal "it" is no speaker; P is the outlet's own claim
            return None if subj.lower_ in IMPERSONAL else _phrase(subj, bare=True)
        for child in tok.children:  # passive agent: "it was said by X"
            if child.dep_ == "agent":
                for p in child.children:
                    if p.dep_ == "pobj":
                        return _phrase(p, bare=True)
        if tok.dep_ in {"advcl", "xcomp", "pcomp", "conj"} and tok.head.i != tok.i:
            tok = tok.head if tok.dep_ != "pcomp" else tok.head.head
        else:
            break
    return None


def _according(head):
    """("According to X", tokens to drop) attached to the clause head, else (None, set())."""
    for child in head.children:
        if child.lower_ == "according" and child.dep_ in {"prep", "advcl", "advmod"}:
            for to in child.children:
                for pobj in to.children:
                    if pobj.dep_ == "pobj":
                        return _phrase(pobj, bare=True), {t.i for t in child.subtree}
    return None, set()


def _antecedent(head):
    """For a relative clause: the noun it describes, as a phrase (without the clause itself).

    A plural clause after the last of coordinated nouns describes them all: in "members of ISIS or
    al-Qaeda's Nusra Front, which were both excluded", "which" is "ISIS or al-Qaeda's Nusra Front".
    """
    return _join(_antecedent_tokens(head))


def _antecedent_tokens(head) -> list:
    """The tokens of :func:`_antecedent` (their proper nouns are the claim's entities too)."""
    noun = head.head
    clause = {t.i for t in head.subtree}
    if noun.dep_ == "conj" and _plural_verb(head):
        last = noun
        while noun.dep_ == "conj" and noun.head.pos_ in {"NOUN", "PROPN"}:
            noun = noun.head
        of = next((g for c in noun.children if c.dep_ == "prep" and c.lower_ == "of" for g in c.children
                   if g.dep_ == "pobj" and g.pos_ == "PROPN"), None)
        if noun.pos_ == "NOUN" and last.pos_ == "PROPN" and of is not None:
            # "members of ISIS or Nusra Front, which were both excluded": the parser coordinates "Front" with
            # "members"; what was excluded is "ISIS or Nusra Front".
            kept = [t for t in noun.subtree if t.i >= of.i and t.i not in clause and t.text not in QUOTES]
            while kept and (kept[-1].is_punct or kept[-1].dep_ == "cc"):
                kept.pop()
            return kept
    return _phrase_tokens(noun, clause)


def _plural_verb(head) -> bool:
    """The clause's finite verb is plural ("which were excluded", "who have joined") or says "both"."""
    verbs = [head, *(c for c in head.children if c.dep_ in {"aux", "auxpass"})]
    return any(t.tag_ == "VBP" or t.lower_ in {"were", "are"} for t in verbs) or any(
        c.lower_ in {"both", "all"} for c in head.children)


def _frame(head, kept: set[int], rel_antecedent: str | None, stranded=None) -> dict:
    """Agent, predicate lemma, patient, negation and modality of the clause headed by ``head``.

    ``stranded``: the subject the parser hung elsewhere (:func:`_stranded_subject`).
    """
    pred, modality = head, None
    lemma = head.lemma_.lower()
    if lemma in INTENT or lemma in ASPECT:
        for child in head.children:
            if child.dep_ in {"xcomp", "prep", "pcomp"} and child.pos_ in {"VERB", "AUX", "ADP"}:
                verb = child if child.pos_ != "ADP" else next(
                    (g for g in child.children if g.dep_ == "pcomp" and g.pos_ == "VERB"), None)
                if verb is not None:
                    pred, modality = verb, INTENT.get(lemma)
                    break
    for tok in (head, pred):
        for child in tok.children:
            if child.dep_ == "aux" and child.lemma_.lower() in MODAL_AUX and modality is None:
                modality = child.lemma_.lower()
    negated = any(c.dep_ == "neg" for tok in {head, pred} for c in tok.children) or any(
        c.lower_ == "never" for c in head.children)
    subj = _subject(head) or stranded or _borrowed_subject(head)
    agent = patient = None
    passive = subj is not None and (subj.dep_ in {"nsubjpass", "csubjpass"} or stranded is not None and subj.i == stranded.i and any(
        c.dep_ == "auxpass" for c in head.children))
    subject = None
    if subj is not None:
        agent = subject = rel_antecedent if subj.lower_ in RELATIVE and rel_antecedent else _phrase(subj)
    if passive:
        patient, agent = agent, None
        for child in pred.children:
            if child.dep_ == "agent":
                obj = next((p for p in child.children if p.dep_ == "pobj"), None)
                agent = _phrase(obj) if obj is not None else None
    else:
        for child in pred.children:
            if child.dep_ in {"dobj", "attr", "acomp", "oprd"}:
                patient = _phrase(child)
                break
        else:
            for child in pred.children:  # "resumed south of Aleppo", "joined in the attack"
                if child.dep_ == "prep" and child.lower_ not in PLACE_TIME_PREPS:  # "fought near X": X is no target
                    obj = next((p for p in child.children if p.dep_ == "pobj"), None)
                    if obj is not None:
                        patient = _phrase(obj)
                        break
    return {"agent": agent, "predicate": pred.lemma_.lower(), "patient": patient, "negated": negated,
            "modality": modality, "subject": subject, "passive": passive}


def _mentions(tokens) -> tuple[list[str], list[str], list[str]]:
    """Proper-noun runs (entities), numbers and dates among the kept tokens, in order, deduplicated."""
    entities: list[str] = []
    numbers: list[str] = []
    dates: list[str] = []
    run: list = []

    def flush() -> None:
        if run:
            name = _join(run).strip("-– ")
            if name and name not in entities and not all(t.lower_ in DATE_WORDS for t in run):
                entities.append(name)
            run.clear()

    prev_date = None
    for t in tokens:
        low = t.lower_.rstrip(".")
        is_date = low in DATE_WORDS and (t.pos_ == "PROPN" or low in {"today", "yesterday", "tomorrow"})
        is_date = is_date or bool(_YEAR.match(t.text)) or (
            t.like_num and prev_date is not None and prev_date.i == t.i - 1 and len(t.text) <= 2)
        if is_date:
            if prev_date is not None and prev_date.i == t.i - 1 and dates:
                dates[-1] = f"{dates[-1]} {t.text}"
            else:
                dates.append(t.text)
            prev_date = t
        elif t.like_num and t.text not in numbers:
            numbers.append(t.text)
        if t.pos_ == "PROPN" and not is_date or (run and t.text in {"-", "al"} and t.whitespace_ == ""):
            run.append(t)
        else:
            flush()
    flush()
    return entities, numbers, dates


_LEADERS = {"and", "but", "or", "yet", "so", "that", "because", "although", "though", "while", "as", "if", "since",
            "whereas", "unless", "even", "however", "meanwhile", "also", "then", "therefore", "thus", "after",
            "before", "when", "until", "till", "once", "whenever", "where"}


def _tidy(tokens, head=None) -> list:
    """Drop quote marks, the clause's own leading conjunctions/markers, and edge punctuation."""
    toks = [t for t in tokens if isinstance(t, str) or t.text not in QUOTES]
    while toks and not isinstance(toks[0], str) and (toks[0].is_punct or toks[0].lower_ in _LEADERS and (
            head is not None and toks[0].head.i == head.i and toks[0].dep_ in {"mark", "cc", "advmod"})
            and len(toks) > 3):
        toks.pop(0)
    while toks and not isinstance(toks[-1], str) and (toks[-1].is_punct or toks[-1].dep_ == "cc"):
        if toks[-1].text == ")" and any(not isinstance(t, str) and t.text == "(" for t in toks):
            break  # "Resigns (AP)": keep the parenthesis whole
        toks.pop()
    return toks


_SPACE_BEFORE = re.compile(r"\s+([,;:.!?…)\]])")
_REPEATED = re.compile(r"([,;:—–-])(?:\s*[,;:—–-])+")


def _readable(text: str) -> str:
    text = _REPEATED.sub(r"\1", _SPACE_BEFORE.sub(r"\1", text)).strip(" ,;:—–-")
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…" else text + "."


def _has_verb(tokens) -> bool:
    return any(t.pos_ in {"VERB", "AUX"} for t in tokens)


def propositions(sent, *, headline: bool = False, min_words: int = 2) -> list[Proposition]:
    """The atomic claims of one parsed sentence (a spaCy Doc), in reading order.

    ``headline`` (titles, one-sentence documents): a verbless sentence is a claim too, if it has
    ``min_words`` words with a letter ("76ers 114, Wizards 107"; a row of a table is a claim with one).
    """
    tokens = list(sent)
    if not tokens:
        return []
    question = sent.text.rstrip().rstrip("".join(QUOTES) + ")]'").endswith("?")
    if question and not headline:
        return []  # a question asserts nothing
    # An embedded question ("What is now happening in Aleppo – we warned …", "asked who fired first")
    # asserts nothing on its own: it stays inside the clause that governs it.
    # Nor does an elliptical clause ("… before the US and its allies do").
    heads = [t for t in tokens
             if (_is_clause_head(t) or _noun_clause(t)) and not _wh_clause(t) and not _elliptical(t)]
    out: list[tuple[int, Proposition]] = []
    frames_of: set[int] = set()  # reporting verbs with a split-off complement: their "X said" is no claim
    reported: dict[int, tuple] = {}
    shared = _headline_shared_subjects(heads, sent) if headline else {}
    for h in heads:
        verb, stance = _reporter(h)
        if verb is not None and verb.i not in shared:
            reported[h.i] = (verb, stance)
            frames_of.add(verb.i)
    appos_claims = []
    appos_drop: set[int] = set()
    for t in tokens:
        holder = _appos_holder(t, sent)
        if holder is not None:
            sub = list(t.subtree)
            # With a verb ("Aleppo, the city that may prove …"). A verbless one ("Aleppo, a region with no
            # significant Islamic State presence") stays in its claim: as a claim of its own it was joined, on
            # the seeds, with "We have no role in Aleppo" (cosine 0.80), a false merge (docs/EVALUATION.md).
            if len(sub) >= 4 and _has_verb(sub):
                appos_claims.append((t, holder))
                appos_drop.update(x.i for x in sub)
                after = sub[-1].i + 1  # "Russia, the key player …, had decreased": both commas go with it
                if after < len(tokens) and sent[after].text in {",", "—", "–"}:
                    appos_drop.add(after)
                appos_drop.add(sub[0].i - 1)
    # A reduced passive with its agent ("cease-fire breached by US-backed groups", "the hospital bombed by
    # Russian jets") states an act and who did it: a claim of its own, as an apposition is.
    passive_claims = []
    for t in tokens:
        if (t.dep_ == "acl" and t.tag_ == "VBN" and t.head.pos_ in {"NOUN", "PROPN"} and t.head.dep_ != "ROOT"
                and any(c.dep_ == "agent" and any(g.dep_ == "pobj" for g in c.children) for c in t.children)):
            passive_claims.append(t)
            span = {x.i for x in t.subtree}
            first, last = min(span), max(span)
            span |= {i for i in (first - 1, last + 1) if 0 <= i < len(tokens) and sent[i].text in {",", "—", "–"}}  # "The report, written by X, was …"
            if t.head.dep_ == "conj":  # "… stalled and cease-fire breached by X": the noun goes with it
                span |= {x.i for x in t.head.subtree}
                span |= {c.i for c in t.head.head.children if c.dep_ == "cc" and c.i < t.head.i}
            appos_drop.update(span)
    subtrees = {h.i: {x.i for x in h.subtree} for h in heads}
    # A main-clause subject the parser hung on the preceding subordinate clause goes back to the main clause.
    stranded = {h.i: s for h in heads if (s := _stranded_subject(h) or _as_clause_subject(h)) is not None}
    moved_out: dict[int, set[int]] = {}  # head → tokens of a stranded subject it gives up
    for h_i, s in stranded.items():
        moved = {x.i for x in s.subtree} | ({s.head.i} if s.dep_ == "pobj" else set())  # "as" goes too
        for other in heads:
            if other.i != h_i and s.i in subtrees[other.i] and (other.i in subtrees[h_i] or s.dep_ == "pobj"):
                subtrees[other.i] -= moved
                moved_out.setdefault(other.i, set()).update(moved)
    for h in heads:
        # The clause: h's subtree minus nested clause heads' subtrees (each becomes its own claim).
        drop: set[int] = set(appos_drop) | moved_out.get(h.i, set())
        for other in heads:
            if other.i != h.i and other.i in subtrees[h.i]:
                drop |= subtrees[other.i]
        drop |= _dangling_frames(sent, h, frames_of, drop, {x.i for x in heads})
        speaker, according_drop = _according(h)
        drop |= according_drop
        verb_stance = reported.get(h.i)
        if h.i in frames_of and not _content_beyond_frame(h, drop):
            continue  # "X said" with its complement split off: the frame, not a claim
        kept = [t for t in h.subtree if t.i not in drop]
        rel_antecedent, rel_tokens = None, []
        if h.dep_ == "relcl":
            rel_tokens = _antecedent_tokens(h)
            rel_antecedent = _join(rel_tokens)
            kept = _replace_relative(kept, rel_antecedent)
        kept = _tidy(kept, h)
        split_inside = bool(subtrees[h.i] & drop)
        if split_inside and h.i not in frames_of and _content_words(kept) <= 1:
            continue  # "It is clear", "there are reports": what is left once the clauses went is no claim
        if (verb_stance is not None or _noun_clause(h)) and kept and not isinstance(kept[0], str) and \
                kept[0].lower_ == "that" and len(kept) > 3:
            kept = kept[1:]
        if (h.dep_ == "conj" or h.i in shared) and _subject(h) is None:
            subj = stranded[h.i] if h.i in stranded else shared.get(h.i) or _borrowed_subject(h)
            if subj is not None:
                kept = _with_subject(kept, subj)
        words = [t for t in kept if isinstance(t, str) or t.is_alpha]
        if len(words) < (2 if headline else 3) or not (headline or _has_verb([t for t in kept if not isinstance(t, str)])):
            continue
        reporting_verb, stance = None, "asserts"
        if verb_stance is not None:
            verb, stance = verb_stance
            reporting_verb = verb.lemma_.lower()
            speaker = _speaker_of(verb)
        elif speaker is not None:
            reporting_verb = "according to"
        real = [t for t in kept if not isinstance(t, str)]
        if not real:
            continue
        frame = _frame(h, {t.i for t in real}, rel_antecedent, stranded.get(h.i, shared.get(h.i)))
        named = [t for t in rel_tokens if t.i not in {x.i for x in real}] if any(isinstance(t, str) for t in kept) else []
        ents, nums, dates = _mentions(sorted(named, key=lambda t: t.i) + real)
        text = _readable(_join_mixed(kept))
        start = min(t.idx for t in real)
        end = max(t.idx + len(t.text) for t in real)
        out.append((h.i, Proposition(text, start, end, speaker, reporting_verb, stance, entities=ents,
                                     numbers=nums, dates=dates, **frame)))
    for t, holder_tok in appos_claims:
        named = _phrase_tokens(holder_tok, {x.i for x in t.subtree})
        holder = _join(named)
        kept = _tidy([x for x in t.subtree])
        if not kept:
            continue
        ents, nums, dates = _mentions(named + kept)
        text = _readable(f"{holder} is {_join(kept)}")
        out.append((t.i, Proposition(text, kept[0].idx, kept[-1].idx + len(kept[-1].text), agent=holder,
                                     predicate="be", patient=_join(kept), entities=ents, numbers=nums,
                                     dates=dates)))
    for t in passive_claims:
        patient = _phrase(t.head, {x.i for x in t.subtree})
        kept = _tidy(list(t.subtree))
        agent_tok = next(g for c in t.children if c.dep_ == "agent" for g in c.children if g.dep_ == "pobj")
        if not kept or not patient:
            continue
        ents, nums, dates = _mentions([*t.head.subtree])
        aux = "were" if t.head.tag_ in {"NNS", "NNPS"} else "was"
        noun_start = min(x.idx for x in t.head.subtree if x.i not in {y.i for y in t.subtree})
        out.append((t.i, Proposition(_readable(f"{patient} {aux} {_join(kept)}"), min(noun_start, kept[0].idx),
                                     kept[-1].idx + len(kept[-1].text), agent=_phrase(agent_tok),
                                     predicate=t.lemma_.lower(), patient=patient, entities=ents, numbers=nums,
                                     dates=dates, passive=True)))
    if not out and headline:
        kept = _tidy(tokens)
        if sum(any(c.isalpha() for c in t.text) for t in kept) >= min_words:
            ents, nums, dates = _mentions(kept)
            root = next((t for t in kept if t.dep_ == "ROOT"), kept[0])
            out.append((root.i, Proposition(_readable(_join(kept)), kept[0].idx, kept[-1].idx + len(kept[-1].text),
                                            predicate=root.lemma_.lower(), entities=ents, numbers=nums,
                                            dates=dates)))
    out.sort(key=lambda p: (p[1].start, p[0]))
    return [p for _, p in out]


def _appos_holder(t, sent):
    """The named thing an apposition after a comma or dash describes, or None.

    Normally the apposition's head ("Aleppo, the city that …"). The parser often hangs an apposition after
    "rebel forces in Aleppo, a region with …" on the common noun "forces"; the name right before the
    comma is what it describes then.
    """
    if t.dep_ != "appos":
        return None
    first = min(x.i for x in t.subtree)
    if first < 2 or sent[first - 1].text not in {",", "—", "–"}:
        return None
    if t.head.pos_ == "PROPN":
        return t.head
    before = sent[first - 2]
    if t.head.pos_ == "NOUN" and before.pos_ == "PROPN" and before.dep_ == "pobj" and before.i in {
            x.i for x in t.head.subtree}:
        return before
    return None


def _dangling_frames(sent, head, frames_of: set[int], drop: set[int], head_ids: set[int]) -> set[int]:
    """Tokens of a reporting verb inside ``head``'s clause whose complement was split off ("justifies these
    actions by saying P", "rejected the report, saying P"): without P, "by saying" is a fragment."""
    out: set[int] = set()
    for t in head.subtree:
        if t.i not in frames_of or t.i in head_ids or t.i in drop or _content_beyond_frame(t, drop):
            continue
        if t.dep_ not in {"pcomp", "advcl", "xcomp"}:
            continue
        span = {x.i for x in t.subtree}
        if t.dep_ == "pcomp" and all(c.i in span for c in t.head.children):
            span |= {x.i for x in t.head.subtree}  # "by saying": the preposition goes with it
        first = min(span)
        if first > 0 and sent[first - 1].text in {",", "—", "–"}:
            span.add(first - 1)
        out |= span
    return out


def _content_beyond_frame(verb, drop: set[int]) -> bool:
    """A reporting verb's clause says more than "X said (on Sunday)": an object or a second complement."""
    for child in verb.children:
        if child.i in drop:
            continue
        if child.dep_ in {"dobj", "attr", "acomp", "xcomp", "oprd"} and child.lower_ not in {"it", "this", "that"}:
            if child.dep_ == "dobj" and verb.lemma_.lower() in TELL:
                continue  # the addressee
            return True
    return False


def _content_words(kept: list) -> int:
    """Content words left in a clause, not counting reporting verbs and nouns ("there are reports")."""
    return sum(1 for t in kept if not isinstance(t, str) and t.is_alpha and not t.is_stop
               and t.lemma_.lower() not in REPORTING and t.lemma_.lower() not in REPORTING_NOUNS)


def _replace_relative(kept: list, antecedent: str) -> list:
    """"which were excluded" → "<antecedent> were excluded"."""
    out: list = []
    replaced = False
    for t in kept:
        if not replaced and t.lower_ in RELATIVE and t.dep_ in SUBJECTS:
            out.append(antecedent)
            replaced = True
        else:
            out.append(t)
    return out


def _with_subject(kept: list, subj) -> list:
    """A coordinated verb phrase with the shared subject in front ("kept up strikes" → "Putin kept up strikes")."""
    return [_phrase(subj), *kept] if kept else kept


def _join_mixed(items: list) -> str:
    """Tokens and inserted strings (antecedents, borrowed subjects) as one text."""
    parts: list[str] = []
    run: list = []
    for item in items:
        if isinstance(item, str):
            if run:
                parts.append(_join(run))
                run = []
            parts.append(item)
        else:
            run.append(item)
    if run:
        parts.append(_join(run))
    return " ".join(p for p in parts if p)
