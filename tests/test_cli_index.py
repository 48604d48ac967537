"""CLI of the larger-corpora commands (index build/add/remove/info, search, cluster) with the fake embedder."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from claimmatch.store import IndexLock

from .conftest import invoke
from .test_indexing import write_corpus

pytestmark = pytest.mark.usefixtures("cli_env")


def test_index_build_add_remove_info_search_cluster(tmp_path: Path):
    first = tmp_path / "first"
    first.mkdir()
    corpus = write_corpus(first, n=6)
    res = invoke("index", "build", corpus, "--index", "news", "--chunk-docs", "2", "-q")
    assert res.exit_code == 0, res.output
    assert "6 documents: 6 new, 0 changed, 0 unchanged; 24 claims added (21 embedded, 0 from cache)" in res.stderr
    assert "24 claims, flat index" in res.stdout  # a title is a claim: 4 per document

    again = invoke("index", "build", corpus, "--index", "news", "-q")
    assert again.exit_code == 0 and "6 unchanged; 0 claims added" in again.stderr

    second = tmp_path / "second"
    second.mkdir()
    (second / "new.jsonl").write_text(json.dumps({
        "id": "late", "outlet": "wire", "title": "Ferry news from the islands",
        "text": "The ferry to island7 was cancelled because of fog on Tuesday."}) + "\n")
    res = invoke("index", "add", second, "--index", "news", "-q")
    assert res.exit_code == 0 and "1 new" in res.stderr

    res = invoke("search", "The ferry to island7 was cancelled because of fog on Tuesday.", "--index", "news",
                 "-k", "3", "--json")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == 3 and rows[0]["doc_id"] == "late" and rows[0]["outlet"] == "wire"
    assert rows[0]["score"] > 0.99 and rows[0]["rank"] == 1

    res = invoke("index", "info", "news", "--json")
    info = json.loads(res.stdout)
    assert (info["documents"], info["claims"], info["index_type"], info["state"]) == (7, 26, "flat", "ready")
    assert info["size_bytes"] > 0 and info["model"] == "fake-bow-256"
    res = invoke("index", "info", "news")
    assert "7 documents, 26 claims" in res.stdout and "wire: 1 documents" in res.stdout

    res = invoke("index", "remove", "--doc-id", "late", "--doc-id", "ghost", "--index", "news")
    assert res.exit_code == 0 and "removed 1 documents" in res.stdout and "not in the index: ghost" in res.stderr
    res = invoke("search", "The ferry to island7 was cancelled", "--index", "news", "--json")
    assert all(json.loads(line)["doc_id"] != "late" for line in res.stdout.splitlines())

    out = tmp_path / "out"
    res = invoke("cluster", "--index", "news", "--out", out, "-q", "--threshold", "0.8")
    assert res.exit_code == 0, res.output
    assert {p.name for p in out.iterdir()} == {"claims.parquet", "clusters.parquet", "clusters.md", "run.json"}
    clusters = pl.read_parquet(out / "clusters.parquet")
    shared = clusters.filter(pl.col("claim_ids").list.contains("doc00#1.0")).row(0, named=True)
    assert shared["n_outlets"] == 2 and "doc01#1.0" in shared["claim_ids"]  # doc00 and doc01 share a sentence
    assert len(pl.read_parquet(out / "claims.parquet")) == 24


@pytest.mark.parametrize("args, needle", [
    (["search", "anything", "--index", "missing"], "no index here"),
    (["index", "info", "missing"], "no index here"),
    (["cluster", "--index", "missing", "--out", "o"], "no index here"),
    (["index", "remove", "--doc-id", "x", "--index", "missing"], "no index here"),
    (["index", "build", "--index", "x"], "no input given"),
    (["index", "build", "nope.jsonl", "--index", "x"], "no such file or folder"),
    (["index", "build", "seeds", "--index", "x", "--index-type", "kd-tree"], "unknown index type 'kd-tree'"),
    (["index", "build", "seeds", "--index", "x", "--engine", "spark"], "unknown engine 'spark'"),
])
def test_index_command_mistakes_are_one_line_errors(args, needle):
    res = invoke(*args)
    assert res.exit_code == 2, res.output
    assert needle in res.stderr and res.stderr.count("\n") == 1 and "Traceback" not in res.output


def test_second_writer_gets_a_clear_error(tmp_path: Path):
    corpus = write_corpus(tmp_path, n=2)
    with IndexLock(tmp_path / "indexes" / "news"):
        res = invoke("index", "build", corpus, "--index", "news", "-q")
    assert res.exit_code == 2 and "is locked by another writer (pid" in res.stderr


def test_help_has_examples():
    for cmd in (["index", "build"], ["index", "add"], ["index", "remove"], ["index", "info"], ["index", "verify"],
                ["index", "compact"], ["search"], ["cluster"]):
        res = invoke(*cmd, "--help")
        assert res.exit_code == 0 and "claimmatch " + " ".join(cmd) in res.stdout, cmd
