"""Index integrity (claimmatch/store): damaged files, verify, pins, compaction, write failures, extractor."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from claimmatch.config import Settings
from claimmatch.errors import ClaimmatchError
from claimmatch.store import (
    WriteFailed,
    compact_index,
    index_info,
    open_index,
    read_manifest,
    remove_documents,
    update_index,
    verify_index,
)
from claimmatch.store import faiss_build as faiss_mod
from claimmatch.store import files as files_mod
from claimmatch.store import writer as writer_mod

from .conftest import ROOT, FakeEmbedder, invoke
from .test_indexing import hits, load_index, write_corpus


def built(tmp_path: Path, settings: Settings, n: int = 12, name: str = "news", extractor: dict | None = None) -> Path:
    """An index with every stored file type: 3 chunks, one removal (tombstones), a FAISS file."""
    update_index([write_corpus(tmp_path, n=n)], name, settings, embedder=FakeEmbedder(), chunk_docs=4,
                 extractor=extractor)
    remove_documents(name, ["doc05"], settings)
    return Path(settings.index_dir) / name


def test_store_imports_without_fcntl():
    code = ("import sys; sys.modules['fcntl'] = None; import claimmatch.store, claimmatch.cli; "
            "print(claimmatch.store.IndexLock.__name__)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0 and res.stdout.strip() == "IndexLock", res.stderr


def test_manifest_records_size_and_hash_of_every_file(tmp_path: Path, settings: Settings):
    path = built(tmp_path, settings)
    m = read_manifest(path)
    assert m["format"] == 3 and m["extractor"] is None and len(m["checksum"]) == 32
    named = {m["faiss"], m["removed"], *(s["claims"] for s in m["shards"]), *(s["docs"] for s in m["shards"])}
    assert set(m["files"]) == named
    for name, meta in m["files"].items():
        assert meta == {"size": (path / name).stat().st_size, "xxh3": files_mod.hash_file(path / name)}
    assert all(len(s["vectors_xxh3"]) == 32 for s in m["shards"])
    rep = verify_index("news", settings)
    assert rep.sound, rep.problems
    assert rep.checked["faiss_rows_compared"] == m["rows"] and rep.checked["files"] == len(named) + 1


def _fault(path: Path, kind: str, fault: str) -> str:
    m = json.loads((path / "manifest.json").read_text())
    name = {"manifest": "manifest.json", "vectors": m["vectors"], "claims": m["shards"][1]["claims"],
            "docs": m["shards"][1]["docs"], "removed": m["removed"], "faiss": m["faiss"]}[kind]
    target = path / name
    data = target.read_bytes()
    if fault == "delete":
        target.unlink()
    elif fault == "truncate":
        target.write_bytes(data[:len(data) // 2])
    else:  # flip bytes in the middle (in the vectors file: inside the second chunk's rows)
        at = (m["shards"][1]["row_start"] * m["dimension"] * 2 + 100) if kind == "vectors" else len(data) // 2
        target.write_bytes(data[:at] + bytes(b ^ 0xFF for b in data[at:at + 4]) + data[at + 4:])
    return name


# Which command reads the file whole (and so must notice a flipped byte): `cluster` reads claims, vectors,
# tombstones and FAISS; `info` reads the document tables. Truncated and missing files fail on open for all.
READS_WHOLE = {"docs": ["index", "info", "news"]}


@pytest.mark.parametrize("fault", ["truncate", "flip", "delete"])
@pytest.mark.parametrize("kind", ["manifest", "vectors", "claims", "docs", "removed", "faiss"])
def test_each_damaged_file_is_one_line_and_verify_finds_it(tmp_path: Path, settings: Settings, cli_env,
                                                           kind: str, fault: str):
    path = built(tmp_path, settings)
    name = _fault(path, kind, fault)
    args = READS_WHOLE.get(kind, ["cluster", "--index", "news", "--out", tmp_path / "out", "-q"])
    for command in (args, ["search", "The tunnel3 will reopen", "--index", "news"]):
        res = invoke(*command)
        if command is not args and res.exit_code == 0:
            continue  # a search reads no vector rows and only the claims chunks it returns
        assert res.exit_code == 2, (command, res.output)
        assert res.stderr.count("\n") == 1 and "Traceback" not in res.output, res.output
        assert name in res.stderr, res.stderr
        if kind != "manifest" or fault != "delete":
            assert "claimmatch index verify" in res.stderr or "index format" in res.stderr, res.stderr
    res = invoke("index", "verify", "news")
    assert res.exit_code == 1 and name in res.stdout, res.output
    assert "Traceback" not in res.output
    res = invoke("index", "verify", "news", "--json")
    report = json.loads(res.stdout)
    assert res.exit_code == 1 and not report["sound"] and any(name in p for p in report["problems"])


def test_verify_of_a_sound_index_exits_0(tmp_path: Path, settings: Settings, cli_env):
    built(tmp_path, settings)
    res = invoke("index", "verify", "news")
    assert res.exit_code == 0 and "sound (generation" in res.stdout, res.output
    assert invoke("index", "verify", "missing").exit_code == 2


def test_verify_finds_faiss_rows_that_differ_from_the_vectors(tmp_path: Path, settings: Settings):
    import faiss

    path = built(tmp_path, settings)
    m = read_manifest(path)
    index = faiss.read_index(str(path / m["faiss"]))
    index.reset()
    vecs = np.asarray(np.memmap(path / m["vectors"], np.float16, "r", shape=(m["rows"], m["dimension"])), np.float32)
    vecs[7] = vecs[8]  # a FAISS file built from other vectors, registered as if sound
    index.add(vecs)
    faiss.write_index(index, str(path / m["faiss"]))
    m["files"][m["faiss"]] = {"size": (path / m["faiss"]).stat().st_size, "xxh3": files_mod.hash_file(path / m["faiss"])}
    from claimmatch.store.manifest import seal

    (path / "manifest.json").write_text(json.dumps(seal(m)))
    rep = verify_index("news", settings)
    assert len(rep.problems) == 1 and "1 of 48 rows compared differ" in rep.problems[0] and "row 7" in rep.problems[0]


def test_verify_compares_an_ivf_index_with_its_vectors(tmp_path: Path, settings: Settings, monkeypatch):
    monkeypatch.setattr(faiss_mod, "FLAT_MAX_ROWS", 100)
    update_index([write_corpus(tmp_path, n=40)], "ivf", settings, embedder=FakeEmbedder())
    rep = verify_index("ivf", settings)
    assert rep.sound and read_manifest(Path(settings.index_dir) / "ivf")["index_type"] == "ivf-sq8"
    assert rep.checked["faiss_rows_compared"] == 160


def test_manifest_checksum_catches_an_edit_that_is_still_valid_json(tmp_path: Path, settings: Settings):
    path = built(tmp_path, settings)
    m = json.loads((path / "manifest.json").read_text())
    m["count"] += 1
    (path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(ClaimmatchError, match="manifest.json: manifest checksum mismatch"):
        index_info("news", settings)


def test_old_format_index_gets_a_rebuild_message(tmp_path: Path, settings: Settings, cli_env):
    path = Path(settings.index_dir) / "old"
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"format": 2, "rows": 3}))
    for args in (["search", "x", "--index", "old"], ["index", "info", "old"],
                 ["index", "add", write_corpus(tmp_path, 2), "--index", "old", "-q"]):
        res = invoke(*args)
        assert res.exit_code == 2 and res.stderr.count("\n") == 1, res.output
        assert "index format 2 is from an older claimmatch" in res.stderr and "rebuild it" in res.stderr


# --- extractor ------------------------------------------------------------------------------------------

SPACY_A = {"name": "en_core_web_sm", "version": "3.8.0", "weights_sha256": "a" * 64}
SPACY_B = {"name": "en_core_web_sm", "version": "3.8.1", "weights_sha256": "b" * 64}


def test_an_index_of_another_claim_extractor_is_refused(tmp_path: Path, settings: Settings):
    corpus = write_corpus(tmp_path, n=4)
    update_index([corpus], "news", settings, embedder=FakeEmbedder(), extractor=SPACY_A)
    assert read_manifest(Path(settings.index_dir) / "news")["extractor"] == SPACY_A
    rep = update_index([corpus], "news", settings, embedder=FakeEmbedder(), extractor=SPACY_A)
    assert rep.unchanged == 4  # same extractor: extends fine
    for call in (lambda: update_index([corpus], "news", settings, mode="add", embedder=FakeEmbedder(),
                                      extractor=SPACY_B),
                 lambda: update_index([corpus], "news", settings, mode="add", embedder=FakeEmbedder()),
                 lambda: open_index("news", settings, extractor=SPACY_B)):
        with pytest.raises(ClaimmatchError, match=r"extracted by en_core_web_sm 3\.8\.0 \(weights aaaaaaaaaaaa\), "
                                                  r"not (en_core_web_sm 3\.8\.1|an unrecorded extractor)"):
            call()
    with open_index("news", settings, extractor=SPACY_A) as snap:  # reading with the same one is fine
        assert snap.manifest["count"] == 16
    remove_documents("news", ["doc01"], settings)  # removals add no claims: no extractor needed


# --- readers pin a generation ----------------------------------------------------------------------------


def test_a_pinned_generation_stays_readable_and_is_cleaned_after_its_reader_closes(tmp_path: Path,
                                                                                  settings: Settings, cli_env):
    path = built(tmp_path, settings)
    (path / "contradictions").mkdir()
    (path / "contradictions" / "topics.parquet").write_bytes(b"someone else's")
    snap = open_index("news", settings)
    old = read_manifest(path)
    remove_documents("news", ["doc00"], settings)
    res = invoke("index", "compact", "news", "-q")
    assert res.exit_code == 0 and "48 rows -> 40" in res.stdout, res.output
    new = read_manifest(path)
    assert new["generation_number"] > old["generation_number"]
    assert all((path / f).exists() for f in old["files"])  # kept for the reader
    claims = snap.claims(["text"])  # the old generation, whole and hash-checked
    assert len(claims) == old["count"] and "doc00" in claims["doc_id"].to_list()
    assert snap.faiss_index.ntotal == old["count"]
    snap.close()
    left = {p.name for p in path.iterdir()}
    ours = set(new["files"]) | {new["vectors"]}
    assert left == ours | {"manifest.json", "LOCK", "WRITER", "pins", "contradictions"}
    assert (path / "contradictions" / "topics.parquet").read_bytes() == b"someone else's"
    assert not list((path / "pins").iterdir())


def test_the_pin_of_a_killed_reader_is_dropped(tmp_path: Path, settings: Settings):
    path = built(tmp_path, settings)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; sys.path.insert(0, sys.argv[1]); from claimmatch.store import open_index; "
        "from claimmatch.config import Settings; s = open_index(sys.argv[2], Settings()); "
        "print('pinned', flush=True); time.sleep(60)"), str(ROOT), str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "pinned"
    old = read_manifest(path)
    compact_index("news", settings)
    assert all((path / f).exists() for f in old["files"])  # its reader is alive
    holder.kill()
    holder.wait()
    remove_documents("news", ["doc00"], settings)  # the next commit drops the dead reader's pin
    assert not list((path / "pins").glob("*.json"))
    assert not any((path / f).exists() for f in old["files"])


READER_SCRIPT = """
import sys, time, json
sys.path.insert(0, {root!r})
from tests.conftest import FakeEmbedder
from claimmatch.config import Settings
from claimmatch.store import cluster_index, index_info, open_index, search_index

settings = Settings(index_dir={index_dir!r}, cache_dir={cache_dir!r}, quiet=True, use_nli=False)
stop = time.time() + {seconds}
n = bad = 0
while time.time() < stop:
    try:
        res = search_index("news", "The tunnel1 will reopen in month1 after repairs1.", 5, settings, FakeEmbedder())
        if res["claim_id"][0] != "doc01#3.0" or res["score"][0] < 0.99:
            bad += 1; print("wrong hit", res.row(0), flush=True)
        with open_index("news", settings) as snap:
            claims = snap.claims(["text"])
            m = snap.manifest
            if len(claims) != m["count"] or snap.faiss_index.ntotal != m["count"] or \\
                    claims["doc_id"].n_unique() != m["documents"]:
                bad += 1; print("mixed generation", m["generation_number"], len(claims), m["count"], flush=True)
        info = index_info("news", settings)
        if n % 5 == 0:
            res = cluster_index("news", {out!r}, settings)
            if res.info["counts"]["claims"] < 30:
                bad += 1; print("cluster saw", res.info["counts"], flush=True)
        n += 1
    except Exception as exc:
        bad += 1; print("error", type(exc).__name__, exc, flush=True)
print(json.dumps({{"reads": n, "bad": bad}}), flush=True)
"""

WRITER_SCRIPT = """
import sys, time, json
sys.path.insert(0, {root!r})
from pathlib import Path
from tests.conftest import FakeEmbedder
from claimmatch.config import Settings
from claimmatch.store import compact_index, remove_documents, update_index

settings = Settings(index_dir={index_dir!r}, cache_dir={cache_dir!r}, quiet=True)
extra = Path({extra!r})
stop = time.time() + {seconds}
commits = 0
while time.time() < stop:
    update_index([extra], "news", settings, mode="add", embedder=FakeEmbedder(), chunk_docs=2)
    remove_documents("news", ["x0", "x1", "x2", "x3"], settings)
    compact_index("news", settings)
    commits += 3
print(json.dumps({{"commits": commits}}), flush=True)
"""


def test_readers_see_one_generation_while_a_writer_adds_removes_and_compacts(tmp_path: Path, settings: Settings):
    update_index([write_corpus(tmp_path, n=12)], "news", settings, embedder=FakeEmbedder(), chunk_docs=4)
    extra = tmp_path / "extra.jsonl"
    extra.write_text("".join(json.dumps({"id": f"x{i}", "outlet": "wire", "title": f"Extra story {i}",
                                         "text": f"Extra claim{i} about harbour{i} today. More words{i} here."})
                             + "\n" for i in range(4)), encoding="utf-8")
    fmt = {"root": str(ROOT), "index_dir": settings.index_dir, "cache_dir": settings.cache_dir}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    writer = subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT.format(**fmt, extra=str(extra), seconds=8)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    reader = subprocess.Popen([sys.executable, "-c", READER_SCRIPT.format(**fmt, out=str(tmp_path / "out"), seconds=10)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    w_out, w_err = writer.communicate(timeout=60)
    r_out, r_err = reader.communicate(timeout=60)
    assert writer.returncode == 0, w_err
    assert reader.returncode == 0, r_err
    result = json.loads(r_out.strip().splitlines()[-1])
    assert result["bad"] == 0, r_out
    assert result["reads"] >= 3 and json.loads(w_out.strip().splitlines()[-1])["commits"] >= 3
    assert verify_index("news", settings).sound


# --- compaction -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("index_type", ["flat", "ivf-sq8"])
def test_compaction_equals_a_fresh_build_of_the_live_documents(tmp_path: Path, settings: Settings,
                                                               monkeypatch, index_type: str):
    monkeypatch.setattr(faiss_mod, "FLAT_MAX_ROWS", 100 if index_type != "flat" else 20_000)
    corpus = write_corpus(tmp_path, n=60)  # 180 claims
    update_index([corpus], "news", settings, embedder=FakeEmbedder(), chunk_docs=7)
    gone = [f"doc{i:02d}" for i in range(0, 60, 4)]
    remove_documents("news", gone, settings)
    path = Path(settings.index_dir) / "news"
    before = index_info("news", settings)
    res = compact_index("news", settings)
    after = read_manifest(path)
    assert res.compacted and res.rows_before == 240 and res.rows_after == after["rows"] == 180
    assert after["removed"] is None and after["removed_rows"] == 0 and after["index_type"] == index_type
    assert index_info("news", settings)["size_bytes"] < before["size_bytes"]
    live = tmp_path / "live"
    live.mkdir()
    rows = [r for r in corpus.read_text().splitlines() if json.loads(r)["id"] not in gone]
    (live / "c.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    update_index([live], "fresh", settings, embedder=FakeEmbedder(), chunk_docs=7)
    a, b = load_index(path), load_index(Path(settings.index_dir) / "fresh")
    assert a.claims.equals(b.claims) and np.array_equal(a.vectors, b.vectors)
    for i in (1, 2, 13, 38, 59):
        for q in (f"The tunnel{i} will reopen in month{i} after repairs{i}.", f"Residents of street{i} complained"):
            assert hits("news", q, settings, k=8) == hits("fresh", q, settings, k=8)
    assert verify_index("news", settings).sound
    assert not compact_index("news", settings).compacted  # nothing left to compact


def test_a_crashed_compaction_leaves_the_old_index_and_a_rerun_resumes_it(tmp_path: Path, settings: Settings,
                                                                        cli_env):
    path = built(tmp_path, settings)  # 3 chunks of 4 documents, doc05 (chunk 2) removed
    old = read_manifest(path)

    def crash(i: int) -> None:
        if i == 1:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        compact_index("news", settings, on_shard=crash)
    assert read_manifest(path) == old and verify_index("news", settings).sound
    assert load_index(path).manifest["count"] == 44  # readers see the old generation meanwhile
    copied: list[int] = []
    rep = compact_index("news", settings, on_shard=copied.append)
    assert rep.resumed_at_chunk == 2 and copied == [2]  # the two chunks copied before the crash are kept
    assert rep.rows_after == 44 and not (path / "compact.json").exists()
    assert verify_index("news", settings).sound and read_manifest(path)["count"] == old["count"]
    fresh_dir = tmp_path / "fresh_in"
    fresh_dir.mkdir()
    rows = [r for r in write_corpus(fresh_dir, n=12).read_text().splitlines() if json.loads(r)["id"] != "doc05"]
    (fresh_dir / "corpus.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    update_index([fresh_dir / "corpus.jsonl"], "fresh", settings, embedder=FakeEmbedder(), chunk_docs=4)
    a, b = load_index(path), load_index(Path(settings.index_dir) / "fresh")
    assert a.claims.equals(b.claims) and np.array_equal(a.vectors, b.vectors)


def test_a_compaction_journal_of_another_generation_is_not_resumed(tmp_path: Path, settings: Settings, cli_env):
    path = built(tmp_path, settings)

    def crash(i: int) -> None:
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        compact_index("news", settings, on_shard=crash)
    assert (path / "compact.json").exists()
    remove_documents("news", ["doc00"], settings)  # the index moved on: the partial copy is debris
    assert not (path / "compact.json").exists()
    rep = compact_index("news", settings)
    assert rep.resumed_at_chunk == 0 and rep.rows_after == 40 and verify_index("news", settings).sound
    res = invoke("index", "compact", "news", "-q")
    assert res.exit_code == 0 and "nothing removed, nothing to compact" in res.stdout


# --- write failures --------------------------------------------------------------------------------------


def _no_space(*_a, **_k):
    raise OSError(errno.ENOSPC, "No space left on device")


@pytest.mark.parametrize("step", ["vectors", "claims", "docs", "removed", "faiss", "manifest"])
def test_a_failed_write_is_one_line_and_the_previous_generation_stays(tmp_path: Path, settings: Settings,
                                                                      cli_env, monkeypatch, step: str):
    from claimmatch.parser import extractor_info

    path = built(tmp_path, settings, extractor=extractor_info())  # as `index build` records it: `index add` checks
    before = read_manifest(path)
    hits_before = hits("news", "The tunnel3 will reopen in month3 after repairs3.", settings)
    if step == "vectors":
        def half_then_fail(self, m, data):  # a partial append, then the disk is full
            with open(self.path / m["vectors"], "ab") as fh:
                fh.write(data[:len(data) // 2])
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(writer_mod.IndexWriter, "append_vectors", half_then_fail)
    elif step == "manifest":
        real = os.replace

        def replace(src, dst):
            if Path(dst).name == "manifest.json":
                raise OSError(errno.EIO, "Input/output error")
            return real(src, dst)
        monkeypatch.setattr(files_mod.os, "replace", replace)
    else:
        real_write = writer_mod.write_hashed

        def write_hashed(target: Path, write):
            if target.name.startswith(step + "-"):
                write(target.with_name(f".{target.name}.{os.getpid()}.tmp"))  # half-written temp left behind
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(target, write)
        monkeypatch.setattr(writer_mod, "write_hashed", write_hashed)
    more = tmp_path / "more"
    more.mkdir()
    (more / "m.jsonl").write_text(json.dumps({"id": "late", "outlet": "wire", "title": "Late story",
                                              "text": "The late ferry7 sailed at dawn."}) + "\n")
    res = invoke("index", "add", more, "--index", "news", "-q") if step != "removed" else \
        invoke("index", "remove", "--doc-id", "doc02", "--index", "news")
    assert res.exit_code == 2 and res.stderr.count("\n") == 1 and "Traceback" not in res.output, res.output
    assert "could not write" in res.stderr and ("No space left" in res.stderr or "Input/output" in res.stderr)
    monkeypatch.undo()
    now = read_manifest(path)
    assert f"generation {now['generation_number']} is still the index" in res.stderr
    if step == "faiss":  # the chunk had committed; only the FAISS file (written after it) failed
        assert now["generation_number"] == before["generation_number"] + 1 and now["state"] == "building"
    else:
        assert now == before
    assert hits("news", "The tunnel3 will reopen in month3 after repairs3.", settings) == hits_before
    assert verify_index("news", settings).sound
    update_index([more], "news", settings, mode="add", embedder=FakeEmbedder(),
                 extractor=extractor_info())  # the disk has room again
    assert hits("news", "The late ferry7 sailed at dawn.", settings)[0][0] == "late#1.0"
    assert verify_index("news", settings).sound and read_manifest(path)["state"] == "ready"
    assert not [p for p in path.iterdir() if p.name.endswith(".tmp")]  # debris removed by the next writer


def test_copy_of_an_index_opens_elsewhere(tmp_path: Path, settings: Settings):
    path = built(tmp_path, settings)
    copy = tmp_path / "copied"
    shutil.copytree(path, copy)
    assert load_index(copy).manifest["count"] == read_manifest(path)["count"]
    assert verify_index(str(copy), settings).sound


def test_write_failed_is_a_user_error():
    assert issubclass(WriteFailed, ClaimmatchError)
