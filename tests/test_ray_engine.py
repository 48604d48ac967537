"""The Ray engine on a real two-node local Ray cluster gives the same index as the in-process engine."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import ray

from claimmatch.config import Settings
from claimmatch.engines.ray_engine import RayEngine
from claimmatch.store import search, update_index

from . import conftest
from .conftest import FakeEmbedder
from .test_indexing import load_index, write_corpus


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], env: dict) -> subprocess.Popen:
    """``ray start --block`` in its own process group: stopping the group stops exactly this node."""
    ray_bin = str(Path(sys.executable).parent / "ray")
    return subprocess.Popen([ray_bin, "start", "--block", "--node-ip-address=127.0.0.1", "--num-cpus=1",
                             "--disable-usage-stats", *args], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_port(port: int, deadline: float) -> None:
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"Ray head did not open port {port}")


@pytest.fixture(scope="module")
def ray_cluster():
    port = _free_port()
    temp = f"/tmp/ray-cm-{os.getpid()}"
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    nodes = [_start(["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}"], env)]
    try:
        deadline = time.time() + 90
        _wait_port(port, deadline)
        nodes.append(_start([f"--address=127.0.0.1:{port}"], env))
        address = f"127.0.0.1:{port}"
        ray.init(address=address, log_to_driver=False)
        while time.time() < deadline and ray.cluster_resources().get("CPU", 0) < 2:
            time.sleep(0.5)
        assert ray.cluster_resources().get("CPU", 0) >= 2, "the worker node did not join"
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        for proc in reversed(nodes):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in nodes:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.parametrize("index_type", ["flat", "ivf-sq8"])
def test_ray_engine_builds_the_same_index_as_in_process(ray_cluster: str, tmp_path: Path, index_type: str):
    ray.cloudpickle.register_pickle_by_value(conftest)  # workers cannot import the tests package
    settings = Settings(index_dir=str(tmp_path / "indexes"), cache_dir=str(tmp_path / "cache"), quiet=True)
    corpus = write_corpus(tmp_path, n=40)  # 120 claims
    local = update_index([corpus], "local", settings, embedder=FakeEmbedder(), chunk_docs=3, index_type=index_type)
    engine = RayEngine(ray_cluster, shard_rows=25)  # several shard indexes to merge
    try:
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        remote = update_index([corpus], "ray", settings, embedder=FakeEmbedder(), engine=engine, chunk_docs=3,
                              index_type=index_type)
    finally:
        engine.close()
    assert remote.chunks == local.chunks == 14 and remote.manifest["index_type"] == index_type
    a = load_index(tmp_path / "indexes" / "local")
    b = load_index(tmp_path / "indexes" / "ray")
    assert a.claims.equals(b.claims) and np.array_equal(a.vectors, b.vectors)
    sims_a, ids_a = search(a.faiss_index, a.vectors, 5)
    sims_b, ids_b = search(b.faiss_index, b.vectors, 5)
    assert np.array_equal(ids_a, ids_b) and np.allclose(sims_a, sims_b)
