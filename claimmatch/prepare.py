"""The one documents → claims → vectors step, shared by ``claimmatch run`` and the chunked index build.

Cleaning, claim extraction (spaCy parse + propositions) and embedding (through the embedding cache) in
that order; vectors are rounded through float16 exactly as an index stores them, so a run and a later
command on its saved index see identical similarities.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from claimmatch.claims import documents_without_claims, extract_claims
from claimmatch.clean import clean_documents
from claimmatch.config import Settings
from claimmatch.embed import Embedder, EmbeddingCache, embed_texts
from claimmatch.records import Document


@dataclass
class Prepared:
    docs: list[Document]  # cleaned
    claims: pl.DataFrame  # claimmatch.records.CLAIM_COLUMNS
    vectors: np.ndarray  # float32 rounded through float16; row i ↔ claims row i
    no_claims: list[str]  # ids of documents that gave no claim
    stats: dict = field(default_factory=dict)  # embedded, from_cache, clean_s, claims_s, embed_s


def embed_claims(claims: pl.DataFrame, embedder: Embedder, settings: Settings, stats: dict,
                 quiet: bool | None = None) -> np.ndarray:
    """Vectors of the configured claim field (``Settings.embed_field``) as the index stores them."""
    cache = EmbeddingCache(settings.resolved_cache_dir())
    try:
        vecs = embed_texts(claims[settings.embed_field].to_list(), embedder, cache, settings.batch_size,
                           settings.quiet if quiet is None else quiet, stats)
    finally:
        cache.close()
    return vecs.astype(np.float16).astype(np.float32)


def prepare(docs: Sequence[Document], settings: Settings, embedder: Embedder, *, quiet: bool | None = None
            ) -> Prepared:
    """Clean ``docs``, extract their atomic claims and embed them; timings go into ``stats``."""
    t0 = time.perf_counter()
    cleaned = clean_documents(list(docs))
    t1 = time.perf_counter()
    claims = extract_claims(cleaned)
    t2 = time.perf_counter()
    stats: dict = {}
    vectors = embed_claims(claims, embedder, settings, stats, quiet)
    t3 = time.perf_counter()
    stats.update({"clean_s": t1 - t0, "claims_s": t2 - t1, "embed_s": t3 - t2})
    return Prepared(cleaned, claims, vectors, documents_without_claims(cleaned, claims), stats)
