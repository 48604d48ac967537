"""PairScorer: same probabilities as a plain model call, each distinct pair scored once per run and cache."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from claimmatch.config import Settings
from claimmatch.nli_cache import NLICache, pair_key
from claimmatch.scoring import PairScorer, load_scorer, scorer_counters


class CountingNLI:
    """Deterministic fake NLI: probabilities from a hash of the ordered pair; counts what it is asked."""

    name = "fake-nli-v1"

    def __init__(self) -> None:
        self.pairs_seen = 0
        self.calls = 0
        self.block_sizes: list[int] = []

    def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        self.pairs_seen += len(pairs)
        self.block_sizes.append(len(pairs))
        out = np.zeros((len(pairs), 3), dtype=np.float32)
        for i, (a, b) in enumerate(pairs):
            digest = hashlib.sha256(f"{a}\x00{b}".encode()).digest()
            raw = np.frombuffer(digest[:12], dtype=np.uint32).astype(np.float64) + 1.0
            out[i] = raw / raw.sum()
        return out


def _pairs(n: int, distinct: int) -> list[tuple[str, str]]:
    return [(f"claim {i % distinct} about the harbour", f"claim {(i * 7) % distinct} about the pier")
            for i in range(n)]


def test_equals_a_plain_model_call_and_counts_what_it_scores(tmp_path: Path) -> None:
    pairs = _pairs(500, 120)
    plain = CountingNLI()
    expected = plain.predict(pairs)
    model = CountingNLI()
    scorer = PairScorer(model, cache=NLICache(tmp_path), block_size=32, quiet=True)
    got = scorer.predict(pairs)
    assert np.array_equal(got, expected)
    distinct = len(set(pairs))
    assert model.pairs_seen == scorer.calls == distinct
    assert max(model.block_sizes) <= 32 and model.calls == -(-distinct // 32)  # blocks of at most 32
    assert scorer.requested == 500 and scorer.memo == 500 - distinct and scorer.cached == 0
    assert scorer.seconds > 0


def test_memo_answers_repeats_within_a_run(tmp_path: Path) -> None:
    model = CountingNLI()
    scorer = PairScorer(model, quiet=True)  # no cache: the memo alone
    first = scorer.predict(_pairs(50, 50))
    again = scorer.predict(_pairs(50, 50) + [("new", "pair")])
    assert np.array_equal(again[:50], first)
    assert model.pairs_seen == 51 and scorer.calls == 51 and scorer.memo == 50


def test_memo_is_bounded(tmp_path: Path) -> None:
    model = CountingNLI()
    scorer = PairScorer(model, quiet=True, memo_size=10)
    scorer.predict(_pairs(30, 30))
    assert len(scorer._memo) == 10
    scorer.predict(_pairs(30, 30))  # the oldest 20 were forgotten, so they are scored again
    assert model.pairs_seen == 50


def test_a_rerun_is_answered_by_the_cache(tmp_path: Path) -> None:
    pairs = _pairs(300, 300)
    first = PairScorer(CountingNLI(), cache=NLICache(tmp_path), block_size=64, quiet=True)
    a = first.predict(pairs)
    model = CountingNLI()
    second = PairScorer(model, cache=NLICache(tmp_path), quiet=True)  # a new run, same cache folder
    b = second.predict(pairs + [("one", "more")])
    assert np.array_equal(a, b[:300])
    assert model.pairs_seen == 1 and second.cached == 300 and second.calls == 1
    other = CountingNLI()
    other.name = "fake-nli-v2"  # other weights: nothing of v1's is reused
    third = PairScorer(other, cache=NLICache(tmp_path), quiet=True)
    third.predict(pairs)
    assert other.pairs_seen == 300 and third.cached == 0


def test_directions_are_distinct_pairs(tmp_path: Path) -> None:
    model = CountingNLI()
    scorer = PairScorer(model, quiet=True)
    probs = scorer.predict([("a", "b"), ("b", "a")])
    assert model.pairs_seen == 2 and not np.array_equal(probs[0], probs[1])


def test_progress_bar_on_stderr_unless_quiet(capsys: pytest.CaptureFixture) -> None:
    PairScorer(CountingNLI(), block_size=10).predict(_pairs(40, 40))
    assert "NLI" in capsys.readouterr().err
    PairScorer(CountingNLI(), block_size=10, quiet=True).predict(_pairs(40, 40))
    assert capsys.readouterr().err == ""


def test_bad_input_and_bad_model_output(tmp_path: Path) -> None:
    scorer = PairScorer(CountingNLI(), quiet=True)
    assert scorer.predict([]).shape == (0, 3)
    with pytest.raises(ValueError, match="pair 1"):
        scorer.predict([("a", "b"), ("only one",)])

    class Broken(CountingNLI):
        def predict(self, pairs, batch_size: int = 64) -> np.ndarray:
            return np.zeros((len(pairs), 2), dtype=np.float32)

    with pytest.raises(ValueError, match="shape"):
        PairScorer(Broken(), quiet=True).predict([("a", "b")])


def test_load_scorer_follows_settings(tmp_path: Path) -> None:
    settings = Settings(cache_dir=str(tmp_path), nli_block_size=7, batch_size=16, quiet=True)
    scorer = load_scorer(settings, model=CountingNLI())
    scorer.predict(_pairs(20, 20))
    assert scorer.cache is not None and scorer.cache.path.parent == tmp_path
    assert scorer.block_size == 7 and scorer.batch_size == 16 and scorer.model.calls == 3
    counts = scorer_counters(scorer)
    assert counts["calls"] == 20 and counts["model"] == "fake-nli-v1" and counts["engine"] == "local"
    assert json.dumps(counts) and scorer_counters(CountingNLI()) is None


def test_pipeline_runs_score_through_the_scorer_and_a_rerun_scores_nothing(articles, tmp_path: Path) -> None:
    """run() with the scorer load_nli hands the judge: the second run is answered by the cache, same reports."""
    from claimmatch.pipeline import make_judge, run

    from .conftest import FakeEmbedder
    from .test_contradict import FakeNLI

    settings = Settings(cache_dir=str(tmp_path / "cache"), quiet=True, candidate_threshold=0.2)
    outs = []
    for k in range(2):
        scorer = load_scorer(settings, model=FakeNLI())
        res = run([articles], tmp_path / f"out{k}", settings, embedder=FakeEmbedder(),
                  judge=make_judge(settings, scorer))
        outs.append((res, scorer))
    (first, s1), (second, s2) = outs
    assert s1.calls > 0 and first.info["nli"]["calls"] == s1.calls
    assert s2.calls == 0 and s2.cached == s1.calls and second.info["nli"]["cached"] == s1.calls
    for name in ("clusters.parquet", "contradictions.parquet", "contradictions.md"):
        assert (tmp_path / "out0" / name).read_bytes() == (tmp_path / "out1" / name).read_bytes()


def test_cli_nli_file_is_answered_from_the_cache_on_a_rerun(tmp_path: Path, monkeypatch) -> None:
    from typer.testing import CliRunner

    from claimmatch import nli
    from claimmatch.cli import app

    model = CountingNLI()
    monkeypatch.setattr(nli, "LazyNLIModel", lambda *a, **k: model)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"premise": p, "hypothesis": h}) + "\n" for p, h in _pairs(30, 12)))
    runner = CliRunner()
    first = runner.invoke(app, ["nli", "--file", str(pairs), "--quiet"])
    assert first.exit_code == 0 and model.pairs_seen == 12 and first.stderr == ""
    again = runner.invoke(app, ["nli", "--file", str(pairs), "--quiet"])
    assert again.exit_code == 0 and again.stdout == first.stdout and model.pairs_seen == 12  # all from the cache
    assert len(first.stdout.splitlines()) == 30
    bad = runner.invoke(app, ["nli", "a", "b", "--engine", "spark"])
    assert bad.exit_code == 2 and "nli_engine" in bad.stderr and bad.stderr.count("\n") == 1


def test_a_run_answered_by_the_cache_never_loads_the_model(tmp_path: Path, monkeypatch) -> None:
    from claimmatch import nli

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded although every pair was cached")

    monkeypatch.setattr(nli, "load_model", no_load)
    lazy = nli.LazyNLIModel(precision="fp32", cache_dir=tmp_path)  # hashes the weights, loads nothing
    assert lazy.name.startswith(nli.NAME_PREFIX) and lazy.weights_sha256[:12] in lazy.name and not lazy.loaded
    pairs = _pairs(20, 20)
    with NLICache(tmp_path) as cache:
        cache.put_many(lazy.name, [(pair_key(a, b), np.array([0.7, 0.2, 0.1], np.float32)) for a, b in pairs])
    scorer = PairScorer(lazy, cache=NLICache(tmp_path), quiet=True)
    assert np.allclose(scorer.predict(pairs), [[0.7, 0.2, 0.1]] * 20)
    assert scorer.cached == 20 and scorer.calls == 0 and not lazy.loaded
    with pytest.raises(AssertionError, match="every pair was cached"):  # a missing pair does load it
        scorer.predict([("a new", "pair")])
