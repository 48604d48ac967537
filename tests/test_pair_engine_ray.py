"""NLI pair scoring on a real two-node local Ray cluster equals the in-process engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import ray

from claimmatch.engines.pairs import RayPairEngine
from claimmatch.errors import ClaimmatchError
from claimmatch.nli_cache import NLICache
from claimmatch.scoring import PairScorer

from . import test_scoring
from .test_ray_engine import ray_cluster  # noqa: F401  (the module-scoped two-node cluster fixture)
from .test_scoring import CountingNLI, _pairs

pytestmark = pytest.mark.slow  # starts Ray: about half a minute


class FailingNLI(CountingNLI):
    name = "failing-nli"

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        raise RuntimeError("weights went missing on this worker")


def test_ray_engine_scores_like_the_local_engine(ray_cluster: str, tmp_path: Path) -> None:  # noqa: F811
    ray.cloudpickle.register_pickle_by_value(test_scoring)  # workers cannot import the tests package
    pairs = _pairs(700, 400)
    local = PairScorer(CountingNLI(), cache=NLICache(tmp_path / "a"), block_size=25, quiet=True)
    expected = local.predict(pairs)
    engine = RayPairEngine(CountingNLI(), ray_cluster, max_in_flight=3)
    try:
        assert len(engine.actors) == 2 and len([n for n in ray.nodes() if n["Alive"]]) == 2
        remote = PairScorer(CountingNLI(), cache=NLICache(tmp_path / "b"), engine=engine, block_size=25,
                            quiet=True)
        got = remote.predict(pairs)
        assert np.array_equal(got, expected)
        assert (remote.calls, remote.memo, remote.cached) == (local.calls, local.memo, 0) == (400, 300, 0)
        assert NLICache(tmp_path / "b").count("fake-nli-v1") == 400  # the driver cached every block
    finally:
        engine.close()
    failing = RayPairEngine(FailingNLI(), ray_cluster, workers=1)
    try:
        with pytest.raises(ClaimmatchError, match="Ray NLI worker failed.*weights went missing"):
            next(failing.score([[("a", "b")]], 8))
    finally:
        failing.close()
