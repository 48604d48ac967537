"""Conflicting accounts of who did it: "the regime violated the truce" vs "extremists breached it".

News outlets disagree most often about *who* broke an agreement or is to blame, and a small NLI model
trained on captions calls such pairs neutral: both sentences can be true, and the pair shares little
wording ("widely violated by the regime forces" / "extremist groups keep on breaching"). This stage
reads the who-did-what frame of violation and blame claims (agent, act, target) by pattern, and pairs
claims from different outlets whose targets are the same thing (embedding similarity) while their
agents are different parties (embedding similarity below a threshold). The NLI model still scores
each such pair, and a pair it calls entailment both ways is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# The acts whose agent outlets dispute: breaking an agreement, and being blamed or accused.
_VERB = r"(?:violat(?:e|es|ed|ing)|breach(?:es|ed|ing)?|br(?:eak|eaks|eaking|oke|oken)|flout(?:s|ed|ing)?|def(?:y|ies|ied|ying))"
_PASSIVE = r"(?:violated|breached|broken|flouted|defied)"
_NOMINAL = r"(?:violations?|breach(?:es)?|defiance)"
_WORD = r"[A-Za-z0-9][\w’'-]*"
# Words that end a noun phrase read by pattern: prepositions, conjunctions of clauses, verbs' company.
_BOUNDARY = frozenset(
    "in on of for to with as while after before because during since until by at from into against over "
    "that which who whom whose when where but or so than if though although and, is are was were has have had "
    "will would can could should may might must do does did be been being keep keeps kept continue continues "
    "continued also meanwhile now still then already".split()
)
_AUX_TAIL = frozenset("has have had is are was were been be being keep keeps kept on continue continues "
                      "continued to also meanwhile now still repeatedly widely openly allegedly reportedly".split())
_DETERMINERS = frozenset("the a an both all some its their his her this that these those".split())
# What can be "violated" in the sense outlets dispute: agreements, rules and promises, not records or serves.
_COMMITMENT = re.compile(
    r"\b(?:cease-?fires?|truces?|agreements?|deals?|accords?|treat(?:y|ies)|pacts?|laws?|rules?|regulations?|"
    r"sanctions?|embargo(?:es)?|resolutions?|pledges?|promises?|obligations?|commitments?|codes?|contracts?|"
    r"terms|constitution|conventions?|protocols?|moratorium|hostilities|arrangements?|understanding|"
    r"borders?|airspace|sovereignty|rights|orders?|bans?|limits?)\b", re.I)
_NOT_AGENT_START = frozenset("by of not to for with from in on at as than seen made led going found each "
                             "one two three four five six seven eight nine ten".split())
_PRONOUNS = frozenset("it he she they we i you him her them us me this that which who what there myself himself "
                      "herself itself themselves ourselves yourself".split())


@dataclass(frozen=True)
class Account:
    agent: str  # who the claim says did it ("the regime forces")
    act: str  # "violation" or "blame"
    target: str  # what was violated, or what the blame is for ("the ceasefire")


def _phrase_after(text: str, max_words: int = 6) -> str:
    words = []
    for m in re.finditer(rf"{_WORD}|[,;:.!?()«»“”\"]", text):
        w = m.group(0)
        if not re.match(_WORD, w) or (words and w.lower() in _BOUNDARY) or len(words) == max_words:
            break
        if w.lower() == "and" and words and len(words) >= max_words - 1:
            break
        words.append(w)
    return " ".join(words)


def _phrase_before(text: str, max_words: int = 5) -> str:
    tokens = re.findall(rf"{_WORD}|[,;:.!?()«»“”\"]", text)
    while tokens and tokens[-1].lower() in _AUX_TAIL:
        tokens.pop()
    words: list[str] = []
    for w in reversed(tokens):
        if not re.match(_WORD, w) or w.lower() in _BOUNDARY - {"and"} or len(words) == max_words:
            break
        words.insert(0, w)
    return " ".join(words)


def _subject(text: str) -> str:
    """The leading noun phrase: words up to the first auxiliary or finite-looking verb."""
    words: list[str] = []
    for w in re.findall(rf"{_WORD}|[,;:.!?]", text):
        low = w.lower()
        if not re.match(_WORD, w) or (words and (low in _BOUNDARY or re.fullmatch(r"[a-z]+(?:ed|ing)", w))):
            break
        words.append(w)
        if len(words) == 6:
            return ""
    return " ".join(words)


def _clean(phrase: str) -> str:
    words = phrase.split()
    while words and words[0].lower() in _DETERMINERS:
        words.pop(0)
    if len(words) > 1 and re.fullmatch(_NOMINAL, words[-1].lower()):
        words.pop()  # "regime violations" -> the regime did it
    return " ".join(words)


def _usable(agent: str, target: str, act: str) -> bool:
    a, t = agent.split(), target.split()
    if not a or not t or agent.lower() == target.lower() or (len(a) == 1 and a[0].lower() in _PRONOUNS and not a[0].isupper()):
        return False
    first = a[0]
    if first.islower() and (first in _NOT_AGENT_START or first in _BOUNDARY or re.fullmatch(r"[a-z]+(?:ed|ing)", first)):
        return False  # "by the parents", "not", "seen a": a pattern misread, not an agent
    return act == "blame" or _COMMITMENT.search(target) is not None


def extract_account(text: str) -> Account | None:
    """The (agent, act, target) frame of a violation or blame claim, or None."""
    patterns: list[tuple[str, Callable[[re.Match[str]], tuple[str, str]]]] = [
        # "put the blame for the renewed fighting ... on the US"
        (r"\bblame for (?P<t>.+?) on (?P<a>.+)$", lambda m: (_phrase_after(m["a"]), _phrase_after(m["t"]))),
        # "blamed Saudi Arabia and Turkey for violating the ceasefire"; "accused X of breaching Y"
        (r"\b(?:blam(?:e|es|ed|ing)\s+(?P<a>(?:(?!\son\s).)+?)\s+for|accus(?:e|es|ed|ing)\s+(?P<a2>.+?)\s+of)\s+(?P<t>.+)$",
         lambda m: (_phrase_after(m["a"] or m["a2"]), _phrase_after(m["t"]))),
        # "blame the fighting on regime violations"
        (r"\bblam(?:e|es|ed|ing)\s+(?P<t>.+?)\s+on\s+(?P<a>.+)$",
         lambda m: (_phrase_after(m["a"]), _phrase_after(m["t"]))),
        # "the ceasefire has been widely violated by the regime forces"
        (rf"(?P<t>^.*?)\b{_PASSIVE}\s+by\s+(?P<a>.+)$",
         lambda m: (_phrase_after(m["a"]), _phrase_before(m["t"]).split(" and ")[-1])),
        # "in an open breach of the ceasefire": the sentence's subject did it
        (rf"^(?P<s>.+?)\bin\s+(?:an?\s+)?(?:\w+\s+)?{_NOMINAL}\s+of\s+(?P<t>.+)$",
         lambda m: (_subject(m["s"]), _phrase_after(m["t"]))),
        # "extremist groups keep on breaching the ceasefire agreement"
        (rf"(?P<a>^.*?)\b{_VERB}\s+(?P<t>.+)$", lambda m: (_phrase_before(m["a"]), _phrase_after(m["t"]))),
    ]
    for pattern, read in patterns:
        m = re.search(pattern, text, re.I)
        if not m:
            continue
        agent, target = (_clean(x) for x in read(m))
        act = "blame" if re.search(r"\b(?:blam|accus)", m.group(0), re.I) else "violation"
        if _usable(agent, target, act):
            return Account(agent, act, target)
    return None


@dataclass
class AccountConflicts:
    i: np.ndarray  # claim rows
    j: np.ndarray
    agent_similarity: np.ndarray
    target_similarity: np.ndarray
    accounts: dict[int, Account]


def find_conflicts(texts: Sequence[str], outlets: Sequence[str], clusters: Sequence[int],
                   encode: Callable[[list[str]], np.ndarray], *, agent_threshold: float = 0.3,
                   target_threshold: float = 0.5, within_outlet: bool = False, max_partners: int = 50,
                   block: int = 2048, claim_vectors: np.ndarray | None = None,
                   blame_claim_similarity: float = 0.45) -> AccountConflicts:
    """Pairs of claims giving the same act on the same target to different agents.

    ``encode`` returns L2-normalised vectors (the run's embedder), so similarities are dot products.
    A blame's target is an event ("the fighting", "low sales") that says less about which event than an
    agreement's name does, so a pair with a blame account also needs the two claims' own vectors
    (``claim_vectors``) to be at least ``blame_claim_similarity`` apart: about one subject.
    Each account is compared with its ``max_partners`` most similar targets, a block of rows at a time,
    so memory stays bounded on large corpora.
    """
    accounts = {k: acc for k, t in enumerate(texts) if (acc := extract_account(t))}
    rows = np.asarray(sorted(accounts), dtype=np.int64)
    empty = np.zeros(0, dtype=np.int64)
    if len(rows) < 2:
        return AccountConflicts(empty, empty, np.zeros(0), np.zeros(0), accounts)
    agents = encode([accounts[r].agent for r in rows.tolist()])
    # "cease-fire" and "ceasefire" are one word to a reader, not to the tokenizer
    targets = encode([accounts[r].target.lower().replace("-", "") for r in rows.tolist()])
    cl = np.asarray(clusters)
    ol = np.asarray(outlets, dtype=object)
    found: dict[tuple[int, int], tuple[float, float]] = {}
    k = min(max_partners + 1, len(rows))
    for start in range(0, len(rows), block):
        t_sim = targets[start:start + block] @ targets.T
        top = np.argpartition(-t_sim, k - 1, axis=1)[:, :k] if k < len(rows) else np.tile(np.arange(len(rows)), (len(t_sim), 1))
        for off in range(len(t_sim)):
            x = start + off
            for y in top[off].tolist():
                if y == x or t_sim[off, y] < target_threshold:
                    continue
                a_sim = float(agents[x] @ agents[y])
                if a_sim >= agent_threshold:
                    continue
                i, j = sorted((int(rows[x]), int(rows[y])))
                if cl[i] == cl[j] or (not within_outlet and ol[i] == ol[j]):
                    continue
                if (claim_vectors is not None and "blame" in (accounts[i].act, accounts[j].act)
                        and float(claim_vectors[i] @ claim_vectors[j]) < blame_claim_similarity):
                    continue
                found[(i, j)] = (a_sim, float(t_sim[off, y]))  # either side's top-k may find the pair
    if not found:
        return AccountConflicts(empty, empty, np.zeros(0), np.zeros(0), accounts)
    keys = sorted(found)
    i, j = (np.asarray(c) for c in zip(*keys, strict=True))
    a, t = (np.asarray(c) for c in zip(*(found[key] for key in keys), strict=True))
    return AccountConflicts(i.astype(np.int64), j.astype(np.int64), a, t, accounts)
