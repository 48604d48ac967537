"""Engines for NLI pair scoring: in-process, or blocks of pairs on Ray workers.

An engine turns a stream of pair blocks into a stream of (n, 3) probability arrays, in input order, so
the caller (:class:`claimmatch.scoring.PairScorer`) caches and assembles results the same way whatever
ran them. On Ray, each worker is an actor that loads the model once and scores many blocks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from itertools import cycle
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from claimmatch.config import NLI_ENGINES
from claimmatch.errors import ClaimmatchError

Pair = tuple[str, str]
# Workers load the model before answering; a cluster without free CPUs would otherwise wait forever.
START_TIMEOUT_S = 600.0


class PairEngine(Protocol):
    name: str

    def score(self, blocks: Iterable[Sequence[Pair]], batch_size: int) -> Iterator[np.ndarray]: ...

    def close(self) -> None: ...


class LocalPairEngine:
    """Scores each block with the model in this process."""

    name = "local"

    def __init__(self, model: Any) -> None:
        self.model = model

    def score(self, blocks: Iterable[Sequence[Pair]], batch_size: int) -> Iterator[np.ndarray]:
        for block in blocks:
            yield np.asarray(self.model.predict(list(block), batch_size=batch_size), dtype=np.float32)

    def close(self) -> None:
        pass


def model_spec(model: Any) -> dict:
    """How a worker gets the same model: the shipped kind is loaded there from its folder (its files are
    local there, and a loaded model does not pickle); any other model object travels pickled."""
    from claimmatch.nli import LazyNLIModel, NLIModel

    if isinstance(model, NLIModel | LazyNLIModel):
        cache_dir = getattr(model, "cache_dir", None)
        return {"path": str(model.path), "precision": model.precision,
                "cache_dir": str(cache_dir) if cache_dir else None}
    return {"object": model}


def _build(spec: dict) -> Any:
    if "object" in spec:
        return spec["object"]
    from claimmatch.nli import load_model

    return load_model(Path(spec["path"]), precision=spec["precision"], cache_dir=spec["cache_dir"])


class PairWorker:
    """A Ray actor: loads the model once, then scores whatever blocks it is sent."""

    def __init__(self, spec: dict) -> None:
        self.model = _build(spec)

    def name(self) -> str:
        return str(getattr(self.model, "name", type(self.model).__name__))

    def score(self, block: Sequence[Pair], batch_size: int) -> np.ndarray:
        return np.asarray(self.model.predict(list(block), batch_size=batch_size), dtype=np.float32)


class RayPairEngine:
    """Blocks go round-robin to ``workers`` actors (default: one per CPU of the cluster); results come back
    in block order with a bounded number of blocks in flight."""

    name = "ray"

    def __init__(self, model: Any, address: str | None = None, workers: int | None = None,
                 max_in_flight: int | None = None, init_options: dict | None = None) -> None:
        from claimmatch.engines.raycluster import cluster_cpus, connect

        self.ray, self._owns = connect(address, init_options)
        try:
            n = workers or cluster_cpus(self.ray)
            actor = self.ray.remote(num_cpus=1)(PairWorker)
            spec_ref = self.ray.put(model_spec(model))
            self.actors = [actor.remote(spec_ref) for _ in range(n)]
            self.max_in_flight = max_in_flight or 2 * n
            want = str(getattr(model, "name", type(model).__name__))
            for got in self._get([a.name.remote() for a in self.actors], timeout=START_TIMEOUT_S):
                if got != want:
                    raise ClaimmatchError(f"a Ray worker scores with NLI model {got}, this process with {want}; "
                                          "install the same claimmatch and model on every machine")
        except BaseException:
            self.close()
            raise

    def _get(self, refs, timeout: float | None = None):
        try:
            return self.ray.get(refs, timeout=timeout)
        except self.ray.exceptions.GetTimeoutError:
            raise ClaimmatchError(f"{len(self.actors)} Ray NLI workers did not start within {timeout:.0f} s; "
                                  "free CPUs on the Ray cluster or use --engine local") from None
        except self.ray.exceptions.RayError as exc:
            text = str(exc).strip().splitlines()
            raise ClaimmatchError(f"a Ray NLI worker failed: {text[-1] if text else type(exc).__name__}") from None

    def score(self, blocks: Iterable[Sequence[Pair]], batch_size: int) -> Iterator[np.ndarray]:
        from claimmatch.engines.raycluster import ordered

        actors = cycle(self.actors)
        yield from ordered(self._get, lambda block: next(actors).score.remote(list(block), batch_size), blocks,
                           self.max_in_flight)

    def close(self) -> None:
        from claimmatch.engines.raycluster import disconnect

        for a in getattr(self, "actors", []):
            with contextlib.suppress(Exception):  # an actor that already died needs no stopping
                self.ray.kill(a)
        self.actors = []
        disconnect(self.ray, self._owns)


def get_pair_engine(name: str, model: Any, address: str | None = None, **options) -> PairEngine:
    if name == "local":
        return LocalPairEngine(model)
    if name == "ray":
        return RayPairEngine(model, address, **options)
    raise ClaimmatchError(f"unknown NLI engine {name!r}; use one of {', '.join(NLI_ENGINES)}")
