"""On-disk indexes for large corpora: chunked commits, resume, add/remove, lock, model checks, index types."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from claimmatch.config import Settings
from claimmatch.errors import ClaimmatchError
from claimmatch.store import (
    IndexLock,
    LiveIndex,
    build_faiss,
    cluster_index,
    index_info,
    open_index,
    read_manifest,
    remove_documents,
    search,
    search_index,
    update_index,
)
from claimmatch.store import faiss_build as index_mod
from claimmatch.store.reader import LoadedIndex, StreamedRows

from .conftest import ROOT, FakeEmbedder


def write_corpus(folder: Path, n: int = 12) -> Path:
    """n one-story articles as JSONL; story i and i+1 (i even) share their first sentence across outlets.

    Each gives 4 claims: its title (a claim, sentence 0) and its three sentences.
    """
    rows = []
    for i in range(n):
        base = i - i % 2
        rows.append({
            "id": f"doc{i:02d}", "outlet": f"outlet{i % 3}", "title": f"Story number {i} headline here",
            "text": f"The council of town{base} approved budget{base} for bridge{base} on Monday. "
                    f"Residents of street{i} complained about noise{i} from works{i} yesterday. "
                    f"The tunnel{i} will reopen in month{i} after repairs{i}.",
        })
    path = folder / "corpus.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def load_index(path: Path, embedder: FakeEmbedder | None = None) -> LoadedIndex:
    with open_index(path, Settings(), embedder) as snapshot:
        return snapshot.load()


def hits(name: str, query: str, settings: Settings, k: int = 5) -> list[tuple[str, float]]:
    res = search_index(name, query, k, settings, FakeEmbedder())
    return list(zip(res["claim_id"].to_list(), res["score"].to_list(), strict=True))


def test_build_then_search_returns_the_exact_claim(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path)
    rep = update_index([corpus], "news", settings, embedder=FakeEmbedder(), chunk_docs=5)
    assert rep.chunks == 3 and rep.added == 12 and rep.manifest["state"] == "ready"
    # 3 body sentences and the title per document (a title is a claim).
    assert rep.manifest["count"] == 48 and rep.manifest["index_type"] == "flat"
    res = search_index("news", "The tunnel7 will reopen in month7 after repairs7.", 3, settings,
                       FakeEmbedder())
    top = res.row(0, named=True)
    assert top["claim_id"] == "doc07#3.0" and top["doc_id"] == "doc07" and top["outlet"] == "outlet1"
    assert top["score"] == pytest.approx(1.0, abs=2e-3) and res["score"][1] < 0.9


def test_rerun_with_nothing_new_does_no_work(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path)
    update_index([corpus], "news", settings, embedder=FakeEmbedder(), chunk_docs=5)
    gen = read_manifest(tmp_path / "indexes" / "news")["generation_number"]
    emb = FakeEmbedder()
    rep = update_index([corpus], "news", settings, embedder=emb, chunk_docs=5)
    assert rep.unchanged == 12 and rep.chunks == 0 and emb.texts_seen == 0
    assert read_manifest(tmp_path / "indexes" / "news")["generation_number"] == gen  # nothing rewritten


def test_resume_after_a_crash_between_chunks(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path)

    def crash_after_two(report):
        if report.chunks == 2:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        update_index([corpus], "news", settings, embedder=FakeEmbedder(), chunk_docs=4, on_commit=crash_after_two)
    stored = load_index(tmp_path / "indexes" / "news", FakeEmbedder())  # the last commit is loadable
    assert stored.manifest["documents"] == 8 and len(stored.claims) == 32 and stored.faiss_index.ntotal == 32
    assert search(stored.faiss_index, stored.vectors[:1], 1)[1][0, 0] == 0
    rep = update_index([corpus], "news", settings, embedder=FakeEmbedder(), chunk_docs=4)
    assert (rep.unchanged, rep.added, rep.chunks) == (8, 4, 1)  # finished chunks are not redone
    update_index([corpus], "clean", settings, embedder=FakeEmbedder(), chunk_docs=4)
    resumed, clean = (load_index(tmp_path / "indexes" / n) for n in ("news", "clean"))
    assert resumed.claims.equals(clean.claims) and np.array_equal(resumed.vectors, clean.vectors)
    query = "The council of town4 approved budget4 for bridge4 on Monday."
    assert hits("news", query, settings) == hits("clean", query, settings)


SLOW_BUILD = """
import sys, time
sys.path.insert(0, {root!r})
from tests.conftest import FakeEmbedder
from claimmatch.config import Settings
from claimmatch.store import update_index

class Slow(FakeEmbedder):
    def encode(self, texts):
        time.sleep(0.3)
        return super().encode(texts)

settings = Settings(index_dir={index_dir!r}, cache_dir={cache_dir!r}, quiet=True)
update_index([{corpus!r}], "news", settings, embedder=Slow(), chunk_docs=2)
"""


def test_kill_9_mid_build_leaves_a_loadable_index_and_a_rerun_completes(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path, n=24)
    script = SLOW_BUILD.format(root=str(ROOT), corpus=str(corpus), index_dir=settings.index_dir,
                               cache_dir=settings.cache_dir)
    proc = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "PYTHONPATH": str(ROOT)})
    path = tmp_path / "indexes" / "news"
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if (path / "manifest.json").exists() and len(read_manifest(path)["shards"]) >= 2:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = load_index(path, FakeEmbedder())
    committed = stored.manifest["documents"]
    assert 4 <= committed < 24 and len(stored.claims) == 4 * committed
    rep = update_index([corpus], "news", settings, embedder=FakeEmbedder(), chunk_docs=2)
    assert rep.unchanged == committed and rep.added == 24 - committed
    assert load_index(path).manifest["documents"] == 24 and len(load_index(path).claims) == 96


def test_add_and_remove_keep_search_consistent(tmp_path: Path, settings: Settings):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    corpus = write_corpus(first, n=8)
    rows = [json.loads(x) for x in corpus.read_text().splitlines()]
    query = "The tunnel9 will reopen in month9 after repairs9."
    changed_query = "The old tunnel3 will stay closed all winter long."
    update_index([corpus], "news", settings, embedder=FakeEmbedder())
    assert hits("news", query, settings)[0][1] < 0.9  # doc09 is not in yet
    extra = [{"id": "doc09", "outlet": "outlet9", "title": "Story nine headline here",
              "text": "The tunnel9 will reopen in month9 after repairs9. Mayor9 welcomed the news9 on Friday."}]
    rows[3]["text"] = changed_query + " The council voted on Monday evening again."
    (second / "more.jsonl").write_text("".join(json.dumps(r) + "\n" for r in extra + rows[3:4]), encoding="utf-8")
    emb = FakeEmbedder()
    rep = update_index([second], "news", settings, mode="add", embedder=emb)
    assert (rep.added, rep.changed, rep.unchanged) == (1, 1, 0)
    assert hits("news", query, settings)[0][0] == "doc09#1.0"
    assert hits("news", changed_query, settings)[0][0] == "doc03#1.0"
    old_claim = "Residents of street3 complained about noise3 from works3 yesterday."
    assert hits("news", old_claim, settings)[0][1] < 0.9  # the old version of doc03 is gone
    rem = remove_documents("news", ["doc09", "doc05"], settings)
    assert rem.removed == 2 and rem.manifest["documents"] == 7
    assert hits("news", query, settings)[0][1] < 0.9
    assert all(not cid.startswith(("doc09", "doc05")) for cid, _ in hits("news", query, settings, k=30))
    # Same answers as a fresh index of the same final documents.
    final = tmp_path / "final"
    final.mkdir()
    keep = [r for r in rows if r["id"] != "doc05"]
    (final / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")
    update_index([final], "fresh", settings, embedder=FakeEmbedder())
    for q in (query, changed_query, old_claim, "The council of town2 approved budget2 for bridge2 on Monday."):
        assert sorted(hits("news", q, settings, k=30)) == sorted(hits("fresh", q, settings, k=30))
    a = load_index(tmp_path / "indexes" / "news")
    b = load_index(tmp_path / "indexes" / "fresh")
    assert sorted(a.claims["claim_id"].to_list()) == sorted(b.claims["claim_id"].to_list())
    # build (not add) makes the index hold exactly its inputs: doc09 and doc05 stay out, the rest is kept.
    rep = update_index([final], "news", settings, embedder=FakeEmbedder())
    assert rep.removed == 0 and rep.unchanged == 7


def test_build_removes_documents_gone_from_the_inputs(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path, n=6)
    update_index([corpus], "news", settings, embedder=FakeEmbedder())
    rows = corpus.read_text().splitlines()
    corpus.write_text("\n".join(rows[:4]) + "\n")
    rep = update_index([corpus], "news", settings, embedder=FakeEmbedder())
    assert rep.removed == 2 and index_info("news", settings)["documents"] == 4


def test_remove_unknown_document_is_an_error(tmp_path: Path, settings: Settings):
    update_index([write_corpus(tmp_path, n=2)], "news", settings, embedder=FakeEmbedder())
    with pytest.raises(ClaimmatchError, match="no document nope"):
        remove_documents("news", ["nope"], settings)


def test_other_model_is_refused(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path, n=2)
    update_index([corpus], "news", settings, embedder=FakeEmbedder())

    class Other(FakeEmbedder):
        name = "other-model"
        dim = 128

    for call in (lambda: update_index([corpus], "news", settings, mode="add", embedder=Other()),
                 lambda: search_index("news", "x y z", 3, settings, Other())):
        with pytest.raises(ClaimmatchError, match=r"built with model fake-bow-256 \(256 dims\), not other-model"):
            call()


def test_lock_refuses_a_second_writer_and_names_the_holder(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path, n=2)
    path = tmp_path / "indexes" / "news"
    with IndexLock(path), pytest.raises(ClaimmatchError) as err:
        update_index([corpus], "news", settings, embedder=FakeEmbedder())
    assert str(path) in str(err.value) and f"pid {os.getpid()}" in str(err.value)
    update_index([corpus], "news", settings, embedder=FakeEmbedder())  # released: works now


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path: Path, settings: Settings):
    path = tmp_path / "indexes" / "news"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
        "from claimmatch.store import IndexLock; lock = IndexLock(Path(sys.argv[2])).__enter__(); "
        "print('locked', flush=True); time.sleep(60)"), str(ROOT), str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(ClaimmatchError, match=f"pid {holder.pid}"):
        IndexLock(path).__enter__()
    holder.kill()
    holder.wait()
    assert (path / "WRITER").read_text().strip() == str(holder.pid)  # the dead writer's pid is still there
    rep = update_index([write_corpus(tmp_path, n=2)], "news", settings, embedder=FakeEmbedder())
    assert rep.added == 2


def clustered_vectors(n: int, dim: int = 64, centers: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(centers, dim))
    v = c[rng.integers(0, centers, n)] + 0.6 * rng.normal(size=(n, dim))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


@pytest.mark.parametrize("kind", ["ivf-sq8", "ivf-pq", "hnsw"])
def test_approximate_index_types_recall_against_exact(kind):
    vecs = clustered_vectors(10_000)
    exact = search(build_faiss(vecs, "flat"), vecs[:300], 10)[1]
    approx = search(build_faiss(vecs, kind), vecs[:300], 10)[1]
    recall = np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)])
    assert recall >= (0.5 if kind == "ivf-pq" else 0.9), recall
    assert index_mod.index_kind(build_faiss(vecs, kind)) == kind


def test_more_ivf_lists_searched_means_recall_at_least_as_high():
    vecs = clustered_vectors(10_000, centers=400, seed=1)
    exact = search(build_faiss(vecs, "flat"), vecs[:300], 10)[1]

    def recall(nprobe: int) -> float:
        index = build_faiss(vecs, "ivf-sq8")
        index_mod.set_nprobe(index, nprobe)
        approx = search(index, vecs[:300], 10)[1]
        return float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact, strict=True)]))

    default, wider, everything = recall(0), recall(16), recall(10_000)  # 0 keeps the index's own
    assert default < wider <= everything and everything >= 0.98  # SQ8 codes cost a little even at full probe


def test_auto_index_type_switches_above_the_break_even(tmp_path: Path, settings: Settings, monkeypatch):
    assert index_mod.choose_index_type(index_mod.FLAT_MAX_ROWS) == "flat"
    assert index_mod.choose_index_type(index_mod.FLAT_MAX_ROWS + 1) == "ivf-sq8"
    monkeypatch.setattr(index_mod, "FLAT_MAX_ROWS", 100)
    corpus = write_corpus(tmp_path, n=40)  # 160 claims
    rep = update_index([corpus], "news", settings, embedder=FakeEmbedder())
    assert rep.manifest["index_type"] == "ivf-sq8"
    assert index_info("news", settings)["index_type"] == "ivf-sq8"
    rep = update_index([corpus], "forced", settings, embedder=FakeEmbedder(), index_type="flat")
    assert rep.manifest["index_type"] == "flat"


@pytest.mark.parametrize("kind", ["flat", "ivf-sq8", "hnsw"])
def test_live_index_never_returns_removed_rows(kind):
    vecs = clustered_vectors(3000)
    live = np.arange(0, 3000, 3)
    view = LiveIndex(build_faiss(vecs, kind), live, 3000)
    sims, ids = search(view, vecs[live[:50]], 5)
    assert ids.min() >= 0 and ids.max() < len(live)
    assert np.array_equal(ids[:, 0], np.arange(50))  # each live query finds itself, as a live position


def test_cluster_index_matches_run_clusters(tmp_path: Path, settings: Settings, articles: Path, monkeypatch):
    from claimmatch import pipeline

    monkeypatch.setattr(pipeline, "default_embedder", lambda s: FakeEmbedder())
    update_index([articles], "harbour", settings, embedder=FakeEmbedder(), chunk_docs=1)
    res = cluster_index("harbour", tmp_path / "out", settings)
    ran = pipeline.run([articles], tmp_path / "ran", settings, embedder=FakeEmbedder())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "claims.parquet", "clusters.md", "clusters.parquet", "run.json"]
    assert res.clusters.drop("cluster_id").equals(ran.clusters.drop("cluster_id"))
    assert pl.read_parquet(tmp_path / "out" / "claims.parquet").columns == ran.claims.columns


def test_open_index_keeps_vectors_on_disk(tmp_path: Path, settings: Settings):
    update_index([write_corpus(tmp_path, n=6)], "news", settings, embedder=FakeEmbedder())
    with open_index("news", settings) as opened:
        vectors = opened.vectors()
        assert isinstance(vectors, StreamedRows) and vectors.dtype == np.float16
        stored = load_index(tmp_path / "indexes" / "news")
        assert np.array_equal(np.asarray(vectors[:], dtype=np.float32), stored.vectors)
        assert np.array_equal(vectors[[5, 1]], vectors[5:6].tolist() + vectors[1:2].tolist())
    remove_documents("news", ["doc01"], settings)
    with open_index("news", settings) as opened:
        assert len(opened.vectors()) == opened.faiss_index.ntotal == 20


def test_ivf_index_is_extended_in_place_and_retrained_after_large_growth(tmp_path: Path, settings: Settings,
                                                                        monkeypatch):
    monkeypatch.setattr(index_mod, "FLAT_MAX_ROWS", 100)
    folder = tmp_path / "in"
    folder.mkdir()
    rows = [json.loads(x) for x in write_corpus(tmp_path, n=200).read_text().splitlines()]

    def publish(n: int) -> Path:
        path = folder / "c.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows[:n]), encoding="utf-8")
        return path

    first = update_index([publish(40)], "news", settings, embedder=FakeEmbedder()).manifest  # 160 claims
    assert first["index_type"] == "ivf-sq8" and first["trained_rows"] == 160
    grown = update_index([publish(60)], "news", settings, embedder=FakeEmbedder()).manifest  # 1.5× growth
    assert grown["trained_rows"] == 160 and grown["faiss_rows"] == 240
    big = update_index([publish(200)], "news", settings, embedder=FakeEmbedder()).manifest  # > 4× the trained size
    assert big["trained_rows"] == 800 and big["faiss_rows"] == 800
    query = "The tunnel150 will reopen in month150 after repairs150."
    assert hits("news", query, settings)[0][0] == "doc150#3.0"
