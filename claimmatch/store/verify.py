"""``claimmatch index verify``: every check the format allows, reporting all problems instead of the first.

Checks, on the pinned committed generation: the manifest's own checksum; size and xxh3-128 hash of every
file (vector rows per committed chunk); that each Parquet file parses; row counts across claims, docs,
vectors and FAISS (chunk by chunk and in total, live and removed); and that the FAISS index holds the
stored vectors: every row compared exactly for flat and HNSW indexes, an evenly spaced sample of
``IVF_SAMPLE`` rows re-encoded with the index's own quantizer for IVF ones.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.errors import ClaimmatchError
from claimmatch.store.faiss_build import ADD_BATCH
from claimmatch.store.files import hash_file
from claimmatch.store.layout import MANIFEST, VECTOR_ITEMSIZE, index_path
from claimmatch.store.manifest import vectors_size
from claimmatch.store.reader import REMOVED_SCHEMA, open_index

IVF_SAMPLE = 10_000  # rows re-encoded when comparing an IVF index with the vectors (a full pass is O(n·nlist))


@dataclass
class VerifyReport:
    path: Path
    generation: int | None = None
    problems: list[str] = field(default_factory=list)
    checked: dict = field(default_factory=dict)

    @property
    def sound(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict:
        return {"index": str(self.path), "sound": self.sound, "generation": self.generation,
                "problems": self.problems, "checked": self.checked}


def verify_index(name: str, settings: Settings | None = None) -> VerifyReport:
    """Check index ``name`` completely; problems are listed one line each, never raised."""
    settings = settings or Settings()
    path = index_path(name, settings.index_dir)
    report = VerifyReport(path)
    start = time.perf_counter()
    if path.is_dir() and not (path / MANIFEST).exists():
        report.problems.append(f"{path / MANIFEST}: file missing (the index cannot be opened without it)")
        return report
    try:
        snap = open_index(path, settings, check=False)
    except ClaimmatchError as exc:
        if not path.is_dir():
            raise
        report.problems.append(str(exc))
        return report
    with snap:
        _verify(snap, report)
    report.checked["seconds"] = round(time.perf_counter() - start, 3)
    return report


def _verify(snap, report: VerifyReport) -> None:
    m, path, problems = snap.manifest, snap.path, report.problems
    report.generation = m["generation_number"]
    hashed = 0
    readable: dict[str, pl.DataFrame] = {}
    for name, meta in sorted(m["files"].items()):
        p = path / name
        if not p.exists():
            problems.append(f"{p}: file missing")
            continue
        size = p.stat().st_size
        if size != meta["size"]:
            problems.append(f"{p}: size {size} bytes, the manifest records {meta['size']}")
            continue
        hashed += size
        if hash_file(p) != meta["xxh3"]:
            problems.append(f"{p}: content hash mismatch")
            continue
        if name.endswith(".parquet"):
            try:
                readable[name] = pl.read_parquet(io.BytesIO(p.read_bytes()))
            except Exception as exc:
                problems.append(f"{p}: not a readable Parquet file ({type(exc).__name__})")
    vec, dim = path / m["vectors"], int(m["dimension"])
    vec_ok = True
    if m["rows"]:
        size = vec.stat().st_size if vec.exists() else None
        if size is None or size < vectors_size(m):
            problems.append(f"{vec}: " + ("file missing" if size is None else
                                          f"size {size} bytes, the manifest records {vectors_size(m)}"))
            vec_ok = False
        else:
            for s in m["shards"]:
                if s["rows"] and hash_file(vec, s["row_start"] * dim * VECTOR_ITEMSIZE,
                                           s["rows"] * dim * VECTOR_ITEMSIZE) != s["vectors_xxh3"]:
                    problems.append(f"{vec}: content hash mismatch in rows {s['row_start']}-"
                                    f"{s['row_start'] + s['rows'] - 1} (chunk {s['id']})")
                    vec_ok = False
            hashed += vectors_size(m)
    _check_counts(m, path, readable, problems)
    faiss_rows = _check_faiss(snap, vec_ok, problems)
    report.checked.update({"files": len(m["files"]) + 1, "bytes_hashed": hashed, "rows": m["rows"],
                           "live_claims": m["count"], "documents": m["documents"], "faiss_rows_compared": faiss_rows})


def _check_counts(m: dict, path: Path, tables: dict[str, pl.DataFrame], problems: list[str]) -> None:
    """Row counts chunk by chunk, then live totals against the manifest (only over files that read)."""
    if sum(s["rows"] for s in m["shards"]) != m["rows"]:
        problems.append(f"{path / MANIFEST}: chunks hold {sum(s['rows'] for s in m['shards'])} rows, "
                        f"the manifest records {m['rows']}")
    removed = pl.DataFrame(schema=REMOVED_SCHEMA)
    if m.get("removed") in tables:
        removed = tables[m["removed"]].cast(REMOVED_SCHEMA)
    complete = not m.get("removed") or m["removed"] in tables
    live_docs = live_claims = 0
    for s in m["shards"]:
        claims, docs = tables.get(s["claims"]), tables.get(s["docs"])
        if claims is not None:
            expected = np.arange(s["row_start"], s["row_start"] + s["rows"])
            if len(claims) != s["rows"] or not np.array_equal(claims["row"].to_numpy(), expected):
                problems.append(f"{path / s['claims']}: holds {len(claims)} claims, the manifest records rows "
                                f"{s['row_start']}-{s['row_start'] + s['rows'] - 1}")
        if docs is not None and int(docs["n_claims"].sum() or 0) != s["rows"]:
            problems.append(f"{path / s['docs']}: its documents count {int(docs['n_claims'].sum() or 0)} claims, "
                            f"the chunk holds {s['rows']}")
        if claims is not None and docs is not None:
            stray = set(claims["doc_id"].to_list()) - set(docs["doc_id"].to_list())
            if stray:
                problems.append(f"{path / s['claims']}: claims of {len(stray)} documents not in {s['docs']}")
        if docs is None:
            complete = False
            continue
        gone = set(removed.filter(pl.col("shard") == s["id"])["doc_id"].to_list())
        kept = docs.filter(~pl.col("doc_id").is_in(list(gone)))
        live_docs += len(kept)
        live_claims += int(kept["n_claims"].sum() or 0)
    if complete and (live_docs, live_claims) != (m["documents"], m["count"]):
        problems.append(f"{path / MANIFEST}: live {live_docs} documents / {live_claims} claims in the files, the "
                        f"manifest records {m['documents']} / {m['count']}")


def _check_faiss(snap, vec_ok: bool, problems: list[str]) -> int:
    """FAISS row count, and its rows against the vectors file; returns how many rows were compared."""
    m, path = snap.manifest, snap.path
    if not m.get("faiss"):
        return 0
    try:
        index = snap.read_faiss()
    except ClaimmatchError as exc:
        if not any(str(path / m["faiss"]) in p for p in problems):
            problems.append(str(exc))
        return 0
    if not vec_ok or not m["faiss_rows"]:
        return 0
    mm = snap.memmap()
    n = int(m["faiss_rows"])
    inner = faiss.downcast_index(index)
    if isinstance(inner, faiss.IndexIVF):
        rows = np.unique(np.linspace(0, n - 1, min(n, IVF_SAMPLE)).astype(np.int64))
        inner.make_direct_map()
        stored = np.vstack([inner.reconstruct(int(r)) for r in rows])
        x = np.asarray(mm[rows], dtype=np.float32)
        expected = inner.sa_decode(inner.sa_encode(x))
        bad = rows[~np.all(stored == expected, axis=1)]
    else:
        bad_parts = []
        for lo in range(0, n, ADD_BATCH):
            hi = min(n, lo + ADD_BATCH)
            stored = index.reconstruct_n(lo, hi - lo)
            same = np.all(stored == np.asarray(mm[lo:hi], dtype=np.float32), axis=1)
            bad_parts.append(np.flatnonzero(~same) + lo)
        rows = np.arange(n)
        bad = np.concatenate(bad_parts)
    if len(bad):
        problems.append(f"{path / m['faiss']}: {len(bad)} of {len(rows)} rows compared differ from "
                        f"{m['vectors']} (first: row {int(bad[0])}); rebuild the index")
    return len(rows)
