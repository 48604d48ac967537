"""NLI pair scoring at corpus scale: every distinct pair is scored once per run and once per cache.

:class:`PairScorer` wraps any NLI model (``.predict(pairs, batch_size) -> (n, 3)``) and has the same
``predict``, so callers need not know about it. In front of the model it puts a per-run memo (a pair
asked for again, e.g. by the who-did-it pass after clustering, costs nothing), then the SQLite result
cache (:mod:`claimmatch.nli_cache`; a re-run scores nothing it scored before). What is left is scored
in blocks, on this process or on Ray workers (:mod:`claimmatch.engines.pairs`), with a progress bar on
stderr, and each block is written to the cache as it finishes, so an interrupted run keeps its work.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from claimmatch.config import Settings
from claimmatch.engines.pairs import PairEngine, get_pair_engine
from claimmatch.nli_cache import NLICache, pair_key
from claimmatch.progress import progress

LABELS = ("entailment", "neutral", "contradiction")
MEMO_SIZE = 500_000  # pairs kept in memory across calls (~100 MB); the SQLite cache backs the rest


class PairScorer:
    """A model with a memo, a result cache, blocks, an engine and counters.

    Counters (cumulative over calls): ``requested`` pairs asked for, ``calls`` pairs the model scored,
    ``cached`` pairs answered by the SQLite cache, ``memo`` pairs answered in memory (repeats),
    ``seconds`` spent scoring.
    """

    labels = LABELS

    def __init__(self, model: Any, *, cache: NLICache | None = None, engine: str | PairEngine = "local",
                 batch_size: int = 64, block_size: int = 2048, quiet: bool = False,
                 ray_address: str | None = None, memo_size: int = MEMO_SIZE) -> None:
        if block_size < 1 or batch_size < 1:
            raise ValueError("block_size and batch_size must be at least 1")
        self.model = model
        self.cache = cache
        self.batch_size = batch_size
        self.block_size = block_size
        self.quiet = quiet
        self.memo_size = memo_size
        self._engine_spec = engine
        self._engine: PairEngine | None = engine if not isinstance(engine, str) else None
        self._ray_address = ray_address
        self._memo: dict[bytes, np.ndarray] = {}
        self.requested = self.calls = self.cached = self.memo = 0
        self.seconds = 0.0

    @property
    def name(self) -> str:
        """The model's name: reports and cache keys name the weights (and precision) that scored."""
        return str(getattr(self.model, "name", type(self.model).__name__))

    @property
    def engine_name(self) -> str:
        return self._engine.name if self._engine is not None else str(self._engine_spec)

    def __repr__(self) -> str:
        return f"PairScorer(model={self.name!r}, engine={self.engine_name!r})"

    def counters(self) -> dict:
        return {"model": self.name, "engine": self.engine_name, "requested": self.requested, "calls": self.calls,
                "cached": self.cached, "memo": self.memo, "seconds": round(self.seconds, 3),
                "pairs_per_s": round(self.calls / self.seconds, 1) if self.seconds else None}

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int | None = None) -> np.ndarray:
        """Probabilities (n, 3) for (premise, hypothesis) pairs, rows in input order, as the model gives them."""
        n = len(pairs)
        out = np.zeros((n, len(LABELS)), dtype=np.float32)
        if n == 0:
            return out
        batch_size = batch_size or self.batch_size
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        keys: list[bytes] = []
        todo: dict[bytes, tuple[str, str]] = {}  # distinct pairs not in the memo, first-seen order
        for i, pair in enumerate(pairs):
            if len(pair) != 2 or not isinstance(pair[0], str) or not isinstance(pair[1], str):
                raise ValueError(f"pair {i} is not a (premise, hypothesis) tuple of two strings: {pair!r}")
            key = pair_key(pair[0], pair[1])
            keys.append(key)
            if key not in self._memo:
                todo.setdefault(key, (pair[0], pair[1]))
        values: dict[bytes, np.ndarray] = {}
        try:
            if todo and self.cache is not None:
                found = self.cache.get_many(self.name, list(todo))
                values.update(found)
                self.cached += len(found)
                for key in found:
                    del todo[key]
            if todo:
                values.update(self._score(todo))
        finally:
            if self.cache is not None:
                self.cache.close()
        for i, key in enumerate(keys):
            value = values.get(key)
            out[i] = value if value is not None else self._memo[key]
        self.requested += n
        self.memo += n - len(values)
        self._remember(values)
        return out

    def _score(self, todo: dict[bytes, tuple[str, str]]) -> dict[bytes, np.ndarray]:
        """Score the pairs in blocks; each block goes to the cache as soon as it is done."""
        keys = list(todo)
        pairs = list(todo.values())
        blocks = [(keys[s:s + self.block_size], pairs[s:s + self.block_size])
                  for s in range(0, len(keys), self.block_size)]
        engine = self._get_engine()
        values: dict[bytes, np.ndarray] = {}
        start = time.perf_counter()
        try:
            with progress(total=len(keys), desc="NLI", unit="pair", quiet=self.quiet) as bar:
                results: Iterator[np.ndarray] = engine.score((p for _, p in blocks), self.batch_size)
                for (block_keys, block_pairs), probs in zip(blocks, results, strict=True):
                    probs = np.asarray(probs, dtype=np.float32)
                    if probs.shape != (len(block_pairs), len(LABELS)):
                        raise ValueError(f"NLI model {self.name} returned shape {probs.shape} for "
                                         f"{len(block_pairs)} pairs; expected ({len(block_pairs)}, {len(LABELS)})")
                    scored = list(zip(block_keys, probs, strict=True))
                    if self.cache is not None:
                        self.cache.put_many(self.name, scored)
                    values.update(scored)
                    self.calls += len(block_pairs)
                    bar.update(len(block_pairs))
        finally:
            self.seconds += time.perf_counter() - start
        return values

    def _get_engine(self) -> PairEngine:
        if self._engine is None:
            self._engine = engine = get_pair_engine(str(self._engine_spec), self.model, self._ray_address)
            # Ray workers of a scorer nobody holds any more are stopped, even if close() was never called.
            self._finalizer = weakref.finalize(self, engine.close)
        return self._engine

    def _remember(self, values: dict[bytes, np.ndarray]) -> None:
        """Keep the newest ``memo_size`` results (insertion order is age)."""
        if self.memo_size <= 0:
            return
        self._memo.update(values)
        excess = len(self._memo) - self.memo_size
        if excess > 0:
            for key in list(self._memo)[:excess]:
                del self._memo[key]

    def close(self) -> None:
        """Stop the engine (Ray workers) and release the cache; the scorer can still be used afterwards."""
        if self._engine is not None and isinstance(self._engine_spec, str):
            self._finalizer()
            self._engine = None
        if self.cache is not None:
            self.cache.close()


def load_scorer(settings: Settings, model: Any = None, ray_address: str | None = None) -> PairScorer:
    """The scorer a run uses: the configured model and precision, the cache under ``settings.cache_dir``."""
    cache_dir = settings.resolved_cache_dir()
    if model is None:
        from claimmatch.nli import LazyNLIModel

        # loaded only when a pair is missing from the cache (and, with --engine ray, only on the workers)
        model = LazyNLIModel(settings.nli_model or None, precision=settings.nli_precision, cache_dir=cache_dir)
    return PairScorer(model, cache=NLICache(cache_dir), engine=settings.nli_engine, batch_size=settings.batch_size,
                      block_size=settings.nli_block_size, quiet=settings.quiet, ray_address=ray_address)


def scorer_counters(model: Any) -> dict | None:
    """A scorer's counters for run.json (None when the model is not a :class:`PairScorer`)."""
    return model.counters() if isinstance(model, PairScorer) else None
