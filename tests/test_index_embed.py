from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from claimmatch.embed import EmbeddingCache, embed_texts
from claimmatch.errors import ClaimmatchError
from claimmatch.store import index_path, save_index, search

from .conftest import FakeEmbedder
from .test_indexing import load_index


def test_embedding_cache_embeds_each_text_once(tmp_path: Path, fake_embedder: FakeEmbedder):
    cache = EmbeddingCache(tmp_path)
    stats: dict = {}
    texts = ["the pier was damaged", "a storm hit", "the pier was damaged"]
    first = embed_texts(texts, fake_embedder, cache, quiet=True, stats=stats)
    assert fake_embedder.texts_seen == 2 and stats == {"embedded": 2, "from_cache": 0}
    again = embed_texts(texts[:2] + ["new text"], fake_embedder, cache, quiet=True, stats=stats)
    assert fake_embedder.texts_seen == 3  # only "new text" was embedded
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[0], first[2])
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    cache.close()


def _claims(n: int) -> pl.DataFrame:
    return pl.DataFrame({"claim_id": [f"d#{i:03d}" for i in range(n)], "doc_id": ["d"] * n,
                         "text": [f"t{i}" for i in range(n)]})


def test_index_roundtrip_manifest_and_generations(tmp_path: Path, fake_embedder: FakeEmbedder):
    path = index_path("news", tmp_path)
    vecs = fake_embedder.encode(["alpha beta", "gamma delta", "alpha gamma"])
    manifest = save_index(path, _claims(3), vecs, fake_embedder)
    for key in ("model", "dimension", "metric", "count", "claimmatch_version", "created"):
        assert key in manifest
    assert manifest["count"] == 3 and manifest["metric"] == "inner_product"
    stored = load_index(path, fake_embedder)
    assert stored.claims["claim_id"].to_list() == ["d#000", "d#001", "d#002"]
    sims, ids = search(stored.faiss_index, vecs[:1], k=2)
    assert ids[0, 0] == 0 and sims[0, 0] == pytest.approx(1.0, abs=1e-3)
    save_index(path, _claims(2), vecs[:2], fake_embedder)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["count"] == 2
    # Once a replacing save has committed, none of the first index's files are left.
    owned = sorted(p.name for p in path.iterdir() if p.name not in ("manifest.json", "LOCK", "WRITER", "pins"))
    assert owned == sorted([manifest["vectors"], manifest["faiss"], manifest["shards"][0]["claims"],
                            manifest["shards"][0]["docs"]])


def test_index_refuses_other_model(tmp_path: Path, fake_embedder: FakeEmbedder):
    path = tmp_path / "idx"
    save_index(path, _claims(1), fake_embedder.encode(["x"]), fake_embedder)

    class Other(FakeEmbedder):
        name = "other-model"

    with pytest.raises(ClaimmatchError, match="built with model fake-bow-256"):
        load_index(path, Other())


def test_missing_or_broken_index_is_a_clear_error(tmp_path: Path, fake_embedder: FakeEmbedder):
    with pytest.raises(ClaimmatchError, match="no index here"):
        load_index(tmp_path / "nothing")
    path = tmp_path / "idx"
    save_index(path, _claims(1), fake_embedder.encode(["x"]), fake_embedder)
    faiss_file = json.loads((path / "manifest.json").read_text())["faiss"]
    (path / faiss_file).write_bytes(b"garbage")
    with pytest.raises(ClaimmatchError, match=f"{faiss_file}: size 7 bytes, the manifest records"):
        load_index(path)


def test_uncommitted_generation_leaves_last_state_loadable(tmp_path: Path, fake_embedder: FakeEmbedder):
    path = tmp_path / "idx"
    save_index(path, _claims(2), fake_embedder.encode(["a", "b"]), fake_embedder)
    # A writer killed before it committed: half a shard file and rows appended past the commit.
    (path / "claims-000009.parquet").write_bytes(b"half")
    manifest = json.loads((path / "manifest.json").read_text())
    with open(path / manifest["vectors"], "ab") as fh:
        fh.write(b"\x00" * 100)
    assert load_index(path).manifest["count"] == 2
    save_index(path, _claims(1), fake_embedder.encode(["a"]), fake_embedder)
    assert load_index(path).manifest["count"] == 1
    assert not (path / "claims-000009.parquet").exists()


@pytest.mark.parametrize("fmt", [1, 2])
def test_older_index_format_is_refused_for_updates_but_replaced_by_a_save(tmp_path: Path, fake_embedder: FakeEmbedder,
                                                                         fmt: int):
    path = tmp_path / "idx"
    (path / "contradictions").mkdir(parents=True)  # not ours: must survive
    (path / "contradictions" / "pairs.parquet").write_bytes(b"x")
    (path / "manifest.json").write_text(json.dumps({"format": fmt, "count": 1}))
    with pytest.raises(ClaimmatchError, match=f"index format {fmt} is from an older claimmatch.*rebuild it"):
        load_index(path)
    save_index(path, _claims(2), fake_embedder.encode(["a", "b"]), fake_embedder)
    assert load_index(path).manifest["count"] == 2 and (path / "contradictions" / "pairs.parquet").exists()
