"""FAISS index of claim vectors stored as ``indexes/<name>/``, committed chunk by chunk, crash-safely.

Layout (format 2)::

    manifest.json           the committed state: model, settings, and the files below that belong to it
    vectors-<g>.f16         float16 rows, appended chunk by chunk (read as a memmap; never loaded whole)
    claims-<g>.parquet      one per committed chunk ("shard" g): claim rows with their global ``row``
    docs-<g>.parquet        the documents of that chunk with their content hash (for incremental updates)
    removed-<g>.parquet     tombstones: (shard, doc_id) of removed or replaced documents
    faiss-<g>.index         FAISS index over the first ``faiss_rows`` rows (ids = rows)
    LOCK                    held (flock) by the one writer; holds its pid

A commit appends and fsyncs vector rows and writes new files under fresh names, then atomically replaces
the manifest. Rows past the manifest's ``rows`` and unreferenced files are debris of a killed writer and
are ignored, then cleaned by the next writer: a kill at any moment leaves the last commit loadable.
Files of the previous commit are kept one commit longer so a reader that just read the old manifest can
still open them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import mmap
import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np
import polars as pl

from claimmatch import __version__
from claimmatch.embed import Embedder
from claimmatch.errors import ClaimmatchError
from claimmatch.fileio import atomic_write, atomic_write_json

MANIFEST = "manifest.json"
LOCK = "LOCK"
METRIC = "inner_product"
FORMAT = 2
INDEX_TYPES = ("auto", "flat", "ivf-sq8", "ivf-pq", "hnsw")
# Exact search up to this many vectors (scripts/bench_index_types.py, docs/BENCHMARKS.md): IVF-SQ8 answers
# the all-claims neighbour search of clustering faster from ~10k vectors, but below ~20k exact search costs
# only seconds and loses nothing.
FLAT_MAX_ROWS = 20_000
# IVF lists are trained once; past this growth factor the coarse quantizer is retrained on rebuild.
RETRAIN_GROWTH = 4.0
_ADD_BATCH = 65_536
_OWNED = re.compile(r"^(vectors-\d+\.f16|(claims|docs|removed)-\d+\.parquet|faiss-\d+\.index)$")


def index_path(name: str, index_dir: str | Path = "indexes") -> Path:
    """A bare name lives under ``index_dir``; anything with a path separator is used as given."""
    if not name or name in {".", ".."}:
        raise ClaimmatchError(f"invalid index name {name!r}")
    return Path(name) if ("/" in name or "\\" in name) else Path(index_dir) / name


# --- FAISS index construction -------------------------------------------------------------------


def choose_index_type(n: int, requested: str = "auto") -> str:
    """Exact search while it is the faster choice (measured break-even), IVF-SQ8 above it."""
    if requested not in INDEX_TYPES:
        raise ClaimmatchError(f"unknown index type {requested!r}; use one of {', '.join(INDEX_TYPES)}")
    if requested != "auto":
        return requested
    return "flat" if n <= FLAT_MAX_ROWS else "ivf-sq8"


# IVF shape, chosen with scripts/bench_index_types.py and bench_cluster.py (docs/BENCHMARKS.md): lists ≈
# LISTS_PER_SQRT·√n (a power of two), NPROBE lists searched per query, TRAIN_PER_LIST training points per
# list. Tuned for near-duplicates (98 % of cosine ≥ 0.8 pairs found at 100k), not for recall@10 (≈ 0.76).
LISTS_PER_SQRT = 3.0
NPROBE = 4
TRAIN_PER_LIST = 16


def ivf_nlist(n: int) -> int:
    """About LISTS_PER_SQRT·√n lists: few vectors scanned per query, and k-means still trains in seconds."""
    if n < 2 * 39:
        return 1
    target = max(1.0, LISTS_PER_SQRT * float(np.sqrt(n)))
    nlist = 1 << int(round(np.log2(target)))
    return int(max(1, min(nlist, 4096, n // 39)))


def ivf_nprobe(nlist: int) -> int:
    return int(min(nlist, NPROBE))


def _as_f32(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(block, dtype=np.float32)


def _training_sample(vectors: np.ndarray, size: int) -> np.ndarray:
    """Evenly spaced rows: deterministic, and for a memmap it reads only the sampled rows."""
    n = len(vectors)
    if n <= size:
        return _as_f32(vectors[:n])
    rows = np.linspace(0, n - 1, size).astype(np.int64)
    return _as_f32(vectors[rows])


def training_size(kind: str, n: int) -> int:
    """TRAIN_PER_LIST points per IVF list; PQ codebooks (256 centroids each) want about 10k points."""
    return max(TRAIN_PER_LIST * ivf_nlist(n), 10_000 if kind == "ivf-pq" else 0)


def empty_faiss(dim: int, index_type: str, n_expected: int, train_on: np.ndarray | None = None) -> faiss.Index:
    """An index ready for ``add``: IVF types are trained on ``train_on`` (a sample of the data)."""
    if index_type == "flat":
        return faiss.IndexFlatIP(dim)
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.hnsw.efSearch = 64
        return index
    if index_type not in ("ivf-sq8", "ivf-pq"):
        raise ClaimmatchError(f"unknown index type {index_type!r}; use one of {', '.join(INDEX_TYPES[1:])}")
    nlist = ivf_nlist(n_expected)
    quantizer = faiss.IndexFlatIP(dim)
    if index_type == "ivf-sq8":
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT, False)  # codes of the vectors, not residuals
    else:
        m = max(m for m in range(1, max(1, dim // 4) + 1) if dim % m == 0)  # 4 dims per sub-quantizer
        index = faiss.IndexIVFPQ(quantizer, dim, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
    index.own_fields = True
    quantizer.this.disown()
    sample = train_on if train_on is not None else np.zeros((0, dim), np.float32)
    if len(sample) < max(nlist, 256 if index_type == "ivf-pq" else 1):
        raise ClaimmatchError(f"too few vectors ({len(sample)}) to train an {index_type} index; use --index-type flat")
    index.cp.seed = 1234
    index.cp.min_points_per_centroid = 1  # we train on TRAIN_PER_LIST points per list on purpose: no warning
    index.train(_as_f32(sample))
    index.nprobe = ivf_nprobe(nlist)
    return index


def build_faiss(vectors: np.ndarray, index_type: str = "flat") -> faiss.Index:
    """Inner-product index over normalized vectors (cosine), filled in batches so a memmap streams."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    n = len(vectors)
    kind = choose_index_type(n, index_type)
    if kind in ("ivf-sq8", "ivf-pq") and n < 2 * 39:
        kind = "flat"  # nothing to partition; exact search is both faster and exact
    train = _training_sample(vectors, training_size(kind, n)) if kind.startswith("ivf") else None
    index = empty_faiss(dim, kind, n, train)
    add_rows(index, vectors, 0, n)
    return index


def add_rows(index: faiss.Index, vectors: np.ndarray, start: int, stop: int) -> None:
    for lo in range(start, stop, _ADD_BATCH):
        index.add(_as_f32(vectors[lo:min(stop, lo + _ADD_BATCH)]))


def index_kind(index: faiss.Index) -> str:
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexFlat):
        return "flat"
    if isinstance(index, faiss.IndexHNSW):
        return "hnsw"
    if isinstance(index, faiss.IndexIVFPQ):
        return "ivf-pq"
    if isinstance(index, faiss.IndexIVF):
        return "ivf-sq8"
    return type(index).__name__


def _search_params(index: faiss.Index, selector) -> faiss.SearchParameters:
    """Search parameters carrying a selector, keeping the index's own nprobe/efSearch."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIVF):
        params = faiss.SearchParametersIVF()
        params.nprobe = index.nprobe
    elif isinstance(index, faiss.IndexHNSW):
        params = faiss.SearchParametersHNSW()
        params.efSearch = index.hnsw.efSearch
    else:
        params = faiss.SearchParameters()
    params.sel = selector
    return params


class LiveIndex:
    """A FAISS index seen through its live rows: removed rows never come back, ids are live positions.

    Duck-types the part of ``faiss.Index`` that :func:`search` and clustering use (``ntotal``, ``search``).
    """

    def __init__(self, index: faiss.Index, live_rows: np.ndarray, total_rows: int) -> None:
        self.index = index
        self.live_rows = np.asarray(live_rows, dtype=np.int64)
        self.ntotal = len(self.live_rows)
        self.d = index.d
        self._position = None
        self._params = None
        if self.ntotal != total_rows:
            mask = np.zeros(total_rows, dtype=bool)
            mask[self.live_rows] = True
            # FAISS keeps raw pointers: the bitmap and selector must live as long as this object.
            self._bits = np.packbits(mask, bitorder="little")
            self._selector = faiss.IDSelectorBitmap(total_rows, faiss.swig_ptr(self._bits))
            self._params = _search_params(index, self._selector)
            self._position = np.full(total_rows, -1, dtype=np.int64)
            self._position[self.live_rows] = np.arange(self.ntotal)

    def search(self, queries: np.ndarray, k: int):
        if self._params is None:
            return self.index.search(queries, k)
        sims, ids = self.index.search(queries, k, params=self._params)
        mapped = np.where(ids >= 0, self._position[np.maximum(ids, 0)], -1)
        return sims, mapped


def search(index, queries: np.ndarray, k: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """k nearest neighbours in batches, so memory stays bounded for large query sets."""
    k = min(k, index.ntotal)
    sims = np.zeros((len(queries), k), dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    if k == 0:
        return sims, ids
    for start in range(0, len(queries), batch):
        q = np.ascontiguousarray(queries[start:start + batch], dtype=np.float32)
        sims[start:start + len(q)], ids[start:start + len(q)] = index.search(q, k)
    return sims, ids


# --- manifest, lock, compatibility ------------------------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def read_manifest(path: Path) -> dict:
    mpath = path / MANIFEST
    if not mpath.exists():
        raise ClaimmatchError(f"{path}: no index here (no {MANIFEST}); build one with 'claimmatch index build'")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ClaimmatchError(f"{mpath}: corrupt manifest; rebuild the index") from None
    if manifest.get("format") != FORMAT:
        raise ClaimmatchError(f"{path}: index format {manifest.get('format')} is from an older claimmatch; "
                              "delete the folder and build the index again")
    return manifest


def check_compatible(manifest: dict, embedder: Embedder, path: Path) -> None:
    if manifest.get("model") != embedder.name or manifest.get("dimension") != embedder.dim:
        raise ClaimmatchError(
            f"{path}: index was built with model {manifest.get('model')} ({manifest.get('dimension')} dims), "
            f"not {embedder.name} ({embedder.dim} dims); rebuild it or use another --index name")


class IndexLock:
    """One writer per index: an exclusive flock on ``LOCK``, which also records the holder's pid.

    The kernel drops a flock when its process dies (even by kill -9), so a lock left by a dead writer is
    simply taken over; the stale pid in the file is overwritten.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def __enter__(self) -> IndexLock:
        self.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise ClaimmatchError(f"index {self.path} is locked by another writer (pid {holder}); wait for it to "
                                  "finish, or stop that process") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None


# --- reading a committed index ------------------------------------------------------------------------


def vectors_memmap(path: Path, manifest: dict) -> np.ndarray:
    """The committed rows as a read-only float16 memmap (rows past the commit are ignored)."""
    rows, dim = int(manifest["rows"]), int(manifest["dimension"])
    if rows == 0:
        return np.zeros((0, dim), dtype=np.float16)
    return np.memmap(path / manifest["vectors"], dtype=np.float16, mode="r", shape=(rows, dim))


class StreamedRows:
    """Rows of a float16 memmap handed out as copies; resident pages are dropped every ``budget`` bytes.

    Touched memmap pages count toward the process's resident memory until unmapped, so one pass over a
    million vectors would pin all of them; the file stays in the page cache, so reading again is cheap.
    Supports what clustering uses: ``len``, ``shape``, slices, integer and fancy indexing.
    """

    def __init__(self, mm: np.memmap, budget: int = 32 << 20) -> None:
        self._mm = mm
        self.shape, self.dtype, self.ndim = mm.shape, mm.dtype, mm.ndim
        self._budget = budget
        self._since = 0

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        out = np.array(self._mm[key])
        rows = out.shape[0] if out.ndim == 2 else 1
        self._since += max(out.nbytes, 4096 * rows)  # scattered rows touch a page each
        if self._since >= self._budget:
            self._mm._mmap.madvise(mmap.MADV_DONTNEED)
            self._since = 0
        return out


def shard_files(manifest: dict, kind: str) -> list[str]:
    return [s[kind] for s in manifest["shards"]]


def documents_table(path: Path, manifest: dict) -> pl.DataFrame:
    """Every document entry of the committed shards (removed ones included), with its shard id."""
    frames = [pl.read_parquet(path / s["docs"]).with_columns(pl.lit(s["id"], pl.Int64).alias("shard"))
              for s in manifest["shards"]]
    schema = {"doc_id": pl.String, "doc_hash": pl.String, "outlet": pl.String, "n_claims": pl.Int64,
              "shard": pl.Int64}
    if not frames:
        return pl.DataFrame(schema=schema)
    return pl.concat(frames, how="vertical_relaxed").select(list(schema)).cast(schema)


def removed_table(path: Path, manifest: dict) -> pl.DataFrame:
    if not manifest.get("removed"):
        return pl.DataFrame(schema={"shard": pl.Int64, "doc_id": pl.String})
    return pl.read_parquet(path / manifest["removed"])


def live_documents(path: Path, manifest: dict) -> pl.DataFrame:
    return documents_table(path, manifest).join(removed_table(path, manifest), on=["shard", "doc_id"], how="anti")


def claims_scan(path: Path, manifest: dict, columns: list[str] | None = None) -> pl.LazyFrame:
    """Live claims of all shards, in row order, as a lazy frame (read only the columns asked for)."""
    frames = []
    for s in manifest["shards"]:
        lf = pl.scan_parquet(path / s["claims"])
        if columns is not None:
            lf = lf.select(list(dict.fromkeys(["row", "doc_id", *columns])))
        frames.append(lf.with_columns(pl.lit(s["id"], pl.Int64).alias("shard")))
    if not frames:
        return pl.LazyFrame(schema={"row": pl.Int64, "doc_id": pl.String, "shard": pl.Int64})
    lf = pl.concat(frames, how="diagonal_relaxed")
    removed = removed_table(path, manifest)
    if len(removed):
        lf = lf.join(removed.lazy(), on=["shard", "doc_id"], how="anti", maintain_order="left")
    return lf


def live_rows(path: Path, manifest: dict) -> np.ndarray:
    if not manifest.get("removed"):
        return np.arange(int(manifest["rows"]), dtype=np.int64)
    rows = claims_scan(path, manifest, []).select("row").collect()["row"].to_numpy()
    return np.sort(rows.astype(np.int64))


def set_nprobe(index: faiss.Index, nprobe: int) -> None:
    """Search more (or fewer) IVF lists per query: recall for time. No effect on flat or HNSW indexes."""
    if nprobe < 0:
        raise ClaimmatchError(f"nprobe must be 0 (the index's own) or more, got {nprobe}")
    ivf = faiss.downcast_index(index)
    if nprobe and isinstance(ivf, faiss.IndexIVF):
        ivf.nprobe = int(min(nprobe, ivf.nlist))


def open_faiss(path: Path, manifest: dict, vectors: np.ndarray | None = None) -> faiss.Index:
    """The stored FAISS index, extended in memory by committed rows it does not cover yet."""
    vectors = vectors if vectors is not None else vectors_memmap(path, manifest)
    rows = int(manifest["rows"])
    if manifest.get("faiss"):
        fpath = path / manifest["faiss"]
        try:
            index = faiss.read_index(str(fpath))
        except Exception as exc:  # missing or truncated file: say which index and what to do
            raise ClaimmatchError(f"{fpath}: index file unreadable ({exc}); rebuild the index") from None
    else:
        kind = choose_index_type(rows, manifest.get("index_type_requested", "auto"))
        return build_faiss(vectors, kind if kind != "auto" else "flat")
    if index.ntotal < rows:  # a build that died after committing chunks, before indexing them
        add_rows(index, vectors, index.ntotal, rows)
    return index


@dataclass
class StoredIndex:
    path: Path
    manifest: dict
    claims: pl.DataFrame  # live claims in row order
    vectors: np.ndarray  # float32, row i ↔ claims row i
    faiss_index: LiveIndex  # ids are positions in ``claims``


def load_index(path: Path, embedder: Embedder | None = None) -> StoredIndex:
    """Load a committed index whole (claims, float32 vectors); for large indexes see :mod:`indexing`."""
    manifest = read_manifest(path)
    if embedder is not None:
        check_compatible(manifest, embedder, path)
    try:
        claims = claims_scan(path, manifest).collect()
        mm = vectors_memmap(path, manifest)
        rows = claims["row"].to_numpy().astype(np.int64)
        vectors = np.asarray(mm[rows], dtype=np.float32) if len(rows) else np.zeros((0, mm.shape[1]), np.float32)
    except ClaimmatchError:
        raise
    except Exception as exc:
        raise ClaimmatchError(f"{path}: index files unreadable ({exc}); rebuild the index") from None
    index = LiveIndex(open_faiss(path, manifest, mm), rows, int(manifest["rows"]))
    return StoredIndex(path, manifest, claims.drop("row", "shard"), vectors, index)


# --- writing ----------------------------------------------------------------------------------------


def doc_rows(claims: pl.DataFrame) -> pl.DataFrame:
    """Documents of a claims frame (for indexes written from claims alone, without content hashes)."""
    docs = claims.group_by("doc_id", maintain_order=True).agg(
        pl.col("outlet").first() if "outlet" in claims.columns else pl.lit(None, pl.String).alias("outlet"),
        pl.len().cast(pl.Int64).alias("n_claims"))
    return docs.with_columns(pl.lit(None, pl.String).alias("doc_hash"))


class IndexWriter:
    """Appends chunks of (claims, vectors, documents) to an index, committing after each one.

    Use as a context manager: entering takes the lock, checks the model, and drops uncommitted debris.
    """

    def __init__(self, path: Path, embedder: Embedder | None, *, embed_field: str = "text",
                 index_type: str = "auto", replace: bool = False, extra: dict | None = None) -> None:
        self.path = path
        self.embedder = embedder
        self.embed_field = embed_field
        if index_type not in INDEX_TYPES:
            raise ClaimmatchError(f"unknown index type {index_type!r}; use one of {', '.join(INDEX_TYPES)}")
        self.index_type = index_type
        self.replace = replace
        self.extra = extra or {}
        self.lock = IndexLock(path)
        self.manifest: dict = {}
        self._on_disk: dict | None = None  # the manifest last published (its files stay for readers)

    # lifecycle
    def __enter__(self) -> IndexWriter:
        self.lock.__enter__()
        try:
            self._open()
        except BaseException:
            self.lock.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.lock.__exit__()

    def _open(self) -> None:
        exists = (self.path / MANIFEST).exists()
        try:
            old = read_manifest(self.path) if exists else None
        except ClaimmatchError:
            if not self.replace:
                raise
            old = None  # replacing an index of an older format (or a corrupt one): start afresh
        if old is None and self.embedder is None:
            raise ClaimmatchError(f"{self.path}: no index here (no {MANIFEST}); build one with 'claimmatch index build'")
        if old is not None and self.embedder is None:  # removals need no model
            self.embedder, self.embed_field = None, old.get("embed_field", self.embed_field)
        if old is not None and not self.replace:
            if self.embedder is not None:
                check_compatible(old, self.embedder, self.path)
            if old.get("embed_field", self.embed_field) != self.embed_field:
                raise ClaimmatchError(f"{self.path}: index embeds claim field '{old.get('embed_field')}', not "
                                      f"'{self.embed_field}'; use the same setting or another --index name")
            self.manifest = old
        else:
            number = (old or {}).get("generation_number", 0) + 1
            self.manifest = {
                "format": FORMAT, "model": self.embedder.name,
                "model_weights_sha256": getattr(self.embedder, "weights_sha256", None),
                "dimension": int(self.embedder.dim), "metric": METRIC, "embed_field": self.embed_field,
                "index_type_requested": self.index_type, "index_type": None, "nprobe": None,
                "count": 0, "documents": 0, "rows": 0, "faiss_rows": 0, "trained_rows": 0,
                "vectors": f"vectors-{number:06d}.f16", "shards": [], "removed": None, "faiss": None,
                "state": "empty", "claimmatch_version": __version__,
                "created": (old or {}).get("created") or _now(), "updated": _now(),
                "generation_number": number - 1,
            }
        if self.index_type != "auto" or "index_type_requested" not in self.manifest:
            self.manifest["index_type_requested"] = self.index_type
        self.manifest.update(self.extra)
        self._on_disk = old
        self._load_state()
        self._clean_debris(keep=set(self._files(old)) | set(self._files(self.manifest)))
        vec = self.path / self.manifest["vectors"]
        with open(vec, "ab") as fh:  # drop rows a killed writer appended but never committed
            fh.truncate(int(self.manifest["rows"]) * int(self.manifest["dimension"]) * 2)

    @staticmethod
    def _files(manifest: dict | None) -> list[str]:
        if not manifest:
            return []
        files = [manifest["vectors"], *shard_files(manifest, "claims"), *shard_files(manifest, "docs")]
        return files + [f for f in (manifest.get("removed"), manifest.get("faiss")) if f]

    def _clean_debris(self, keep: set[str]) -> None:
        for p in self.path.iterdir():
            if p.name in keep:
                continue
            if _OWNED.match(p.name) or (p.name.startswith(".") and p.name.endswith(".tmp")):
                p.unlink(missing_ok=True)
            elif p.is_dir() and p.name.startswith("gen-"):  # format-1 generations
                shutil.rmtree(p, ignore_errors=True)

    def _load_state(self) -> None:
        """Live documents held in memory (one small tuple each), so a commit costs O(chunk), not O(index)."""
        fresh = not self.manifest["shards"]
        self._registry = live_documents(self.path, self.manifest) if not fresh else documents_table(self.path, {
            "shards": []})
        self._removed = removed_table(self.path, self.manifest)
        self._live = {(s, d): (o, n) for s, d, o, n in zip(
            self._registry["shard"].to_list(), self._registry["doc_id"].to_list(),
            self._registry["outlet"].to_list(), self._registry["n_claims"].to_list(), strict=True)}
        self._outlets = Counter(o for o, _ in self._live.values())
        self._count = sum(n for _, n in self._live.values())

    def registry(self) -> pl.DataFrame:
        """Live documents when the writer opened: doc_id, doc_hash, outlet, n_claims, shard."""
        return self._registry

    # commits
    def commit(self, claims: pl.DataFrame | None = None, vectors: np.ndarray | None = None,
               docs: pl.DataFrame | None = None, removed: pl.DataFrame | None = None, state: str | None = None) -> None:
        """Append one chunk and/or tombstone documents (``removed``: shard, doc_id) in one atomic commit."""
        m = dict(self.manifest)
        number = m["generation_number"] + 1
        if claims is not None and (len(claims) or (docs is not None and len(docs))):
            vectors = np.asarray(vectors if vectors is not None else np.zeros((0, m["dimension"])))
            if len(claims) != len(vectors):
                raise ValueError("claims and vectors differ in length")
            if len(vectors) and vectors.shape[1] != m["dimension"]:
                raise ClaimmatchError(f"{self.path}: vectors have {vectors.shape[1]} dims, index has {m['dimension']}")
            start = int(m["rows"])
            with open(self.path / m["vectors"], "ab") as fh:
                fh.write(np.ascontiguousarray(vectors, dtype=np.float16).tobytes())
                fh.flush()
                os.fsync(fh.fileno())
            rows = pl.Series("row", np.arange(start, start + len(claims), dtype=np.int64))
            shard = {"id": number, "claims": f"claims-{number:06d}.parquet", "docs": f"docs-{number:06d}.parquet",
                     "row_start": start, "rows": len(claims)}
            framed = claims.with_columns(rows)
            atomic_write(self.path / shard["claims"], lambda tmp: framed.write_parquet(tmp))
            docs = docs if docs is not None else doc_rows(claims)
            docs = docs.select("doc_id", "doc_hash", "outlet", "n_claims").cast(
                {"doc_id": pl.String, "doc_hash": pl.String, "outlet": pl.String, "n_claims": pl.Int64})
            atomic_write(self.path / shard["docs"], lambda tmp: docs.write_parquet(tmp))
            m["shards"] = [*m["shards"], shard]
            m["rows"] = start + len(claims)
            added = zip(docs["doc_id"].to_list(), docs["outlet"].to_list(), docs["n_claims"].to_list(), strict=True)
        else:
            added = iter(())
        table = None
        if removed is not None and len(removed):
            removed = removed.select(pl.col("shard").cast(pl.Int64), pl.col("doc_id").cast(pl.String))
            table = pl.concat([self._removed, removed]).unique(maintain_order=True)
            name = f"removed-{number:06d}.parquet"
            atomic_write(self.path / name, lambda tmp: table.write_parquet(tmp))
            m["removed"] = name
        if state:
            m["state"] = state
        if table is not None:
            self._removed = table
            for key in zip(removed["shard"].to_list(), removed["doc_id"].to_list(), strict=True):
                gone = self._live.pop(key, None)
                if gone is not None:
                    self._forget(*gone)
        for doc_id, outlet, n in added:
            self._live[(number, doc_id)] = (outlet, n)
            self._outlets[outlet] += 1
            self._count += n
        self._publish(m, number)

    def _forget(self, outlet: str, n: int) -> None:
        self._count -= n
        self._outlets[outlet] -= 1
        if self._outlets[outlet] <= 0:
            del self._outlets[outlet]

    def _publish(self, m: dict, number: int) -> None:
        m["documents"] = len(self._live)
        m["count"] = int(self._count)
        m["outlets"] = len(self._outlets)
        m["removed_rows"] = int(m["rows"]) - m["count"]
        m["generation_number"] = number
        m["updated"] = _now()
        if m["state"] == "empty" and m["rows"]:
            m["state"] = "building"
        atomic_write_json(self.path / MANIFEST, m)
        self._clean_debris(keep=set(self._files(m)) | set(self._files(self._on_disk)))
        self.manifest = self._on_disk = m

    def finalize(self, shard_builder=None) -> dict:
        """Bring the FAISS file up to date with the committed rows and mark the index ready.

        The type follows the live size (unless forced); an IVF index grown far past the data it was trained
        on, or of the wrong type, is rebuilt from the memmap, otherwise new rows are appended to it.
        """
        m = dict(self.manifest)
        rows = int(m["rows"])
        live = int(m["count"])
        kind = choose_index_type(live, m.get("index_type_requested", "auto"))
        if kind.startswith("ivf") and live < 2 * 39:
            kind = "flat"
        vectors = vectors_memmap(self.path, m)
        up_to_date = m.get("faiss") and m.get("faiss_rows") == rows and m.get("index_type") == kind
        if up_to_date and m.get("state") == "ready":
            return m
        index = None
        if m.get("faiss") and m.get("index_type") == kind:
            grown = kind.startswith("ivf") and rows > RETRAIN_GROWTH * max(1, int(m.get("trained_rows") or 0))
            if not grown:
                index = faiss.read_index(str(self.path / m["faiss"]))
                add_rows(index, vectors, index.ntotal, rows)
        if index is None:
            train = None
            if kind.startswith("ivf"):
                live_ids = live_rows(self.path, m)
                sample_rows = live_ids[np.linspace(0, len(live_ids) - 1, min(len(live_ids), training_size(kind, live)))
                                       .astype(np.int64)]
                train = _as_f32(vectors[sample_rows])
                m["trained_rows"] = rows
            index = empty_faiss(int(m["dimension"]), kind, live, train)
            if shard_builder is not None and kind != "hnsw" and rows > shard_builder.shard_rows:
                merge_shards(index, vectors, rows, shard_builder)
            else:
                add_rows(index, vectors, 0, rows)
        number = m["generation_number"] + 1
        name = f"faiss-{number:06d}.index"
        atomic_write(self.path / name, lambda tmp: faiss.write_index(index, str(tmp)))
        m.update({"faiss": name, "faiss_rows": rows, "index_type": kind, "state": "ready",
                  "nprobe": int(faiss.downcast_index(index).nprobe) if kind.startswith("ivf") else None})
        self._publish(m, number)
        return self.manifest


def merge_shards(index: faiss.Index, vectors: np.ndarray, rows: int, builder) -> None:
    """Fill ``index`` from shard indexes built elsewhere (e.g. Ray tasks) on row blocks, merged in order."""
    template = faiss.serialize_index(index).tobytes()
    step = builder.shard_rows
    blocks = (np.asarray(vectors[lo:min(rows, lo + step)]) for lo in range(0, rows, step))
    for blob in builder.build_shard_indexes(blocks, template):
        part = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
        index.merge_from(part, 0 if isinstance(faiss.downcast_index(index), faiss.IndexFlat) else index.ntotal)


def save_index(path: Path, claims: pl.DataFrame, vectors: np.ndarray, embedder: Embedder,
               index_type: str = "auto", extra: dict | None = None, embed_field: str = "text") -> dict:
    """Replace whatever ``path`` holds with these claims (one chunk), committed atomically."""
    if len(claims) != len(vectors):
        raise ValueError("claims and vectors differ in length")
    with IndexWriter(path, embedder, embed_field=embed_field, index_type=index_type, replace=True,
                     extra=extra) as writer:
        writer.commit(claims, vectors)
        return writer.finalize()


def disk_size(path: Path) -> int:
    with contextlib.suppress(FileNotFoundError):
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return 0
