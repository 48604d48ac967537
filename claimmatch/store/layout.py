"""Where an index keeps what, and the named constants of its format.

An index is a folder ``indexes/<name>/``::

    manifest.json           the committed generation: settings, counts, and every file below with its size
                            and xxh3-128 hash (the manifest carries a checksum of itself too)
    vectors-<g>.f16         float16 rows, appended chunk by chunk; each chunk's bytes hashed in the manifest
    claims-<g>.parquet      one per committed chunk ("shard" g): claim rows with their global ``row``
    docs-<g>.parquet        the documents of that chunk with their content hash (for incremental updates)
    removed-<g>.parquet     tombstones: (shard, doc_id) of removed or replaced documents
    faiss-<g>.index         FAISS index over the first ``faiss_rows`` rows (ids = rows)
    LOCK, WRITER            the writers' lock (filelock) and the pid of the writer holding it
    pins/                   one pin per open reader: the generation and files it reads (see :mod:`lock`)
    compact.json            progress of an unfinished compaction, so a rerun resumes it (see :mod:`compact`)

Anything else in the folder (e.g. ``contradictions/``) belongs to someone else and is never touched.
"""

from __future__ import annotations

import re
from pathlib import Path

from claimmatch.errors import ClaimmatchError

MANIFEST = "manifest.json"
LOCK = "LOCK"
WRITER_PID = "WRITER"
PINS = "pins"
JOURNAL = "compact.json"
FORMAT = 3  # 3: sizes and hashes of every file, extractor; 2: no hashes (must be rebuilt)
METRIC = "inner_product"
VECTOR_DTYPE = "float16"
VECTOR_ITEMSIZE = 2  # bytes per stored vector component
INDEX_TYPES = ("auto", "flat", "ivf-sq8", "ivf-pq", "hnsw")
HASH = "xxh3_128"
# Files this package writes; only these (and its own temp files and pins) are ever deleted.
OWNED = re.compile(r"^(vectors-\d+\.f16|(claims|docs|removed)-\d+\.parquet|faiss-\d+\.index|compact\.json)$")
TEMP = re.compile(r"^\.(vectors-\d+\.f16|(claims|docs|removed)-\d+\.parquet|faiss-\d+\.index|manifest\.json|compact\.json)"
                  r"\..*\.tmp$")


def index_path(name: str | Path, index_dir: str | Path = "indexes") -> Path:
    """A bare name lives under ``index_dir``; a Path or anything with a path separator is used as given."""
    if isinstance(name, Path):
        return name
    if not name or name in {".", ".."}:
        raise ClaimmatchError(f"invalid index name {name!r}")
    return Path(name) if ("/" in name or "\\" in name) else Path(index_dir) / name


def file_name(kind: str, number: int) -> str:
    """``claims``/``docs``/``removed`` → parquet, ``vectors`` → .f16, ``faiss`` → .index, numbered by generation."""
    ext = {"claims": "parquet", "docs": "parquet", "removed": "parquet", "vectors": "f16", "faiss": "index"}[kind]
    return f"{kind}-{number:06d}.{ext}"


class IndexDamaged(ClaimmatchError):
    """A stored file is missing, cut short or changed: name it and say what to do."""


def damaged(path: Path, name: str, what: str) -> IndexDamaged:
    return IndexDamaged(f"{path / name}: {what}; run 'claimmatch index verify {path}' for a full check, then "
                        "rebuild the index or restore the file from a backup")


class WriteFailed(ClaimmatchError):
    """Writing a commit failed (disk full, I/O error); the previous generation is still the committed one."""
