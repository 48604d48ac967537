"""The NLI result cache: hits and misses, several processes at once, damaged files."""

from __future__ import annotations

import logging
import multiprocessing as mp
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from claimmatch.nli_cache import CACHE_FILE, NLICache, pair_key


def _probs(i: int) -> np.ndarray:
    p = np.array([i % 7 + 1, i % 5 + 1, i % 3 + 1], dtype=np.float32)
    return p / p.sum()


def test_pair_key_is_ordered_and_boundary_safe() -> None:
    assert pair_key("a", "b") != pair_key("b", "a")
    assert pair_key("ab", "c") != pair_key("a", "bc")
    assert pair_key("a", "b") == pair_key("a", "b") and len(pair_key("a", "b")) == 16


def test_hit_and_miss_per_model(tmp_path: Path) -> None:
    keys = [pair_key(f"p{i}", f"h{i}") for i in range(1200)]  # more than one SELECT chunk
    with NLICache(tmp_path) as cache:
        assert cache.get_many("m1", keys) == {}
        cache.put_many("m1", [(k, _probs(i)) for i, k in enumerate(keys[:1000])])
    with NLICache(tmp_path) as cache:  # a new process would see the same
        found = cache.get_many("m1", keys)
        assert set(found) == set(keys[:1000])
        assert all(np.array_equal(found[k], _probs(i)) for i, k in enumerate(keys[:1000]))
        assert found[keys[0]].dtype == np.float32
        assert cache.get_many("m2", keys) == {}  # another model (or precision) never sees these
        cache.put_many("m1", [(keys[0], np.zeros(3, np.float32))])  # first result stays
        assert np.array_equal(cache.get_many("m1", keys[:1])[keys[0]], _probs(0))
        assert cache.count("m1") == 1000 and cache.count() == 1000


def _writer(directory: str, worker: int, n: int) -> None:
    cache = NLICache(Path(directory))
    for start in range(0, n, 50):  # many small transactions interleave with the other writers
        cache.put_many("m", [(pair_key(f"w{worker}-{i}", "h"), _probs(i)) for i in range(start, start + 50)])
        cache.get_many("m", [pair_key(f"w{(worker + 1) % 4}-{start}", "h")])
    cache.close()


def test_concurrent_processes_lose_nothing(tmp_path: Path) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, 400)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    with NLICache(tmp_path) as cache:
        assert cache.count("m") == 1600
        assert not cache.disabled


def test_damaged_file_is_moved_aside_and_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / CACHE_FILE).write_bytes(b"this is not an SQLite file" * 100)
    key = pair_key("a", "b")
    with caplog.at_level(logging.WARNING), NLICache(tmp_path) as cache:
        assert cache.get_many("m", [key]) == {}
        cache.put_many("m", [(key, _probs(1))])
        assert np.array_equal(cache.get_many("m", [key])[key], _probs(1))
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1 and "damaged" in lines[0] and CACHE_FILE in lines[0]
    assert len(list(tmp_path.glob(f"{CACHE_FILE}.damaged-*"))) == 1


def test_damage_found_mid_run_switches_the_cache_off(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = NLICache(tmp_path)
    cache.put_many("m", [(pair_key(f"a{i}", "b"), _probs(i)) for i in range(5000)])
    cache.close()
    db = sqlite3.connect(tmp_path / CACHE_FILE)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    path = tmp_path / CACHE_FILE
    data = bytearray(path.read_bytes())
    for pos in range(4096 * 2, len(data), 4096):  # garble every page after the schema page
        data[pos + 100:pos + 400] = b"\xff" * 300
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING):
        found = cache.get_many("m", [pair_key(f"a{i}", "b") for i in range(5000)])
        cache.put_many("m", [(pair_key("x", "y"), _probs(1))])
    assert found == {} and cache.disabled
    assert len(caplog.records) == 1 and "scoring without it" in caplog.records[0].getMessage()


def test_unwritable_folder_is_one_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with caplog.at_level(logging.WARNING):
        cache = NLICache(blocker / "sub")  # a folder below a file cannot be made
        assert cache.get_many("m", [pair_key("a", "b")]) == {}
        cache.put_many("m", [(pair_key("a", "b"), _probs(1))])
    assert cache.disabled and len(caplog.records) == 1
