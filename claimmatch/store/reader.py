"""Reading an index: :func:`open_index` pins one committed generation and checks it as it is read.

Opening checks the manifest's checksum, the model (and claim extractor, when given) and the size of every
file: a missing or cut-short file is reported before anything is read. Each file read whole (claims, docs,
tombstones, FAISS) is hashed as it is read, so damaged bytes are never parsed as data. Vector rows are read
on demand from a memmap; :meth:`IndexSnapshot.check_vectors` hashes them all (cluster, contradictions and
compact do; a search reads no vector row).
"""

from __future__ import annotations

import contextlib
import io
import mmap
import weakref
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
import polars as pl

from claimmatch.config import Settings
from claimmatch.embed import Embedder
from claimmatch.store.faiss_build import LiveIndex, add_rows, build_faiss, effective_type, set_nprobe
from claimmatch.store.files import hash_file, read_checked
from claimmatch.store.layout import VECTOR_ITEMSIZE, damaged, index_path
from claimmatch.store.lock import Pin, clean_if_idle
from claimmatch.store.manifest import (
    CHECKSUM,
    check_compatible,
    check_sizes,
    generation_files,
    read_manifest,
)

DOC_SCHEMA = {"doc_id": pl.String, "doc_hash": pl.String, "outlet": pl.String, "n_claims": pl.Int64}
REMOVED_SCHEMA = {"shard": pl.Int64, "doc_id": pl.String}


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



@dataclass
class LoadedIndex:
    """An index read whole: live claims in row order, their vectors (float16, as stored) and a FAISS view."""

    path: Path
    manifest: dict
    claims: pl.DataFrame
    vectors: np.ndarray
    faiss_index: LiveIndex


class IndexSnapshot:
    """One committed generation, pinned until :meth:`close` (or the end of a ``with`` block).

    Positions (FAISS ids, rows of :attr:`vectors`) count live claims in row order; :attr:`rows` maps a
    position to its stored row.
    """

    def __init__(self, path: Path, manifest: dict, pin: Pin | None, nprobe: int = 0) -> None:
        self.path = path
        self.manifest = manifest
        self.nprobe = nprobe
        self._pin = pin
        self._release = weakref.finalize(self, _release, path, pin)
        self._removed: pl.DataFrame | None = None
        self._rows: np.ndarray | None = None
        self._faiss: LiveIndex | None = None

    def __enter__(self) -> IndexSnapshot:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Unpin the generation; the files of generations no one holds any more are removed."""
        self._release()

    @property
    def generation(self) -> int:
        return int(self.manifest["generation_number"])

    # tables
    def read_parquet(self, name: str, columns: list[str] | None = None) -> pl.DataFrame:
        data = read_checked(self.path, name, self.manifest["files"][name])
        try:
            buf = io.BytesIO(data)
            if columns is not None:
                present = pl.read_parquet_schema(buf)
                columns = [c for c in columns if c in present]
                buf.seek(0)
            return pl.read_parquet(buf, columns=columns)
        except Exception as exc:  # hash matched, yet unreadable: written by something else
            raise damaged(self.path, name, f"not a readable Parquet file ({type(exc).__name__})") from None

    def removed(self) -> pl.DataFrame:
        if self._removed is None:
            name = self.manifest.get("removed")
            self._removed = (self.read_parquet(name).select(list(REMOVED_SCHEMA)).cast(REMOVED_SCHEMA) if name
                             else pl.DataFrame(schema=REMOVED_SCHEMA))
        return self._removed

    def documents(self, live: bool = True) -> pl.DataFrame:
        """Document entries (doc_id, doc_hash, outlet, n_claims, shard); ``live``: without removed ones."""
        frames = [self.read_parquet(s["docs"]).select(list(DOC_SCHEMA)).cast(DOC_SCHEMA)
                  .with_columns(pl.lit(s["id"], pl.Int64).alias("shard")) for s in self.manifest["shards"]]
        docs = pl.concat(frames) if frames else pl.DataFrame(schema={**DOC_SCHEMA, "shard": pl.Int64})
        return docs.join(self.removed(), on=["shard", "doc_id"], how="anti", maintain_order="left") if live else docs

    def claims(self, columns: list[str] | None = None, positions: np.ndarray | None = None, *,
               live: bool = True) -> pl.DataFrame:
        """Claims in row order with their ``row`` and ``shard``; only the shards holding ``positions`` are read."""
        shards = self.manifest["shards"]
        wanted = None
        if positions is not None:
            wanted = np.sort(self.rows[np.asarray(positions, dtype=np.int64)])
            starts = np.array([s["row_start"] for s in shards], dtype=np.int64)
            hit = set(np.searchsorted(starts, wanted, side="right") - 1)
            shards = [s for i, s in enumerate(shards) if i in hit]
        cols = None if columns is None else list(dict.fromkeys(["row", "doc_id", *columns]))
        frames = [self.read_parquet(s["claims"], cols).with_columns(pl.lit(s["id"], pl.Int64).alias("shard"))
                  for s in shards]
        if not frames:
            return pl.DataFrame(schema={"row": pl.Int64, "doc_id": pl.String, "shard": pl.Int64})
        out = pl.concat(frames, how="diagonal_relaxed")
        if live and len(self.removed()):
            out = out.join(self.removed(), on=["shard", "doc_id"], how="anti", maintain_order="left")
        if wanted is not None:
            out = out.filter(pl.col("row").is_in(wanted))
        return out

    @property
    def rows(self) -> np.ndarray:
        """Live stored rows, ascending."""
        if self._rows is None:
            if self.manifest.get("removed"):
                self._rows = np.sort(self.claims([])["row"].to_numpy().astype(np.int64))
            else:
                self._rows = np.arange(int(self.manifest["rows"]), dtype=np.int64)
        return self._rows

    # vectors
    def memmap(self) -> np.ndarray:
        """All committed rows (removed ones too) as a read-only float16 memmap."""
        rows, dim = int(self.manifest["rows"]), int(self.manifest["dimension"])
        if rows == 0:
            return np.zeros((0, dim), dtype=np.float16)
        try:
            return np.memmap(self.path / self.manifest["vectors"], dtype=np.float16, mode="r", shape=(rows, dim))
        except (OSError, ValueError) as exc:
            raise damaged(self.path, self.manifest["vectors"], f"unreadable ({exc})") from None

    def check_vectors(self) -> None:
        """Hash every committed chunk of vector rows against the manifest."""
        name, dim = self.manifest["vectors"], int(self.manifest["dimension"])
        for s in self.manifest["shards"]:
            if not s["rows"]:
                continue
            start, length = s["row_start"] * dim * VECTOR_ITEMSIZE, s["rows"] * dim * VECTOR_ITEMSIZE
            try:
                ok = hash_file(self.path / name, start, length) == s["vectors_xxh3"]
            except OSError as exc:
                raise damaged(self.path, name, f"unreadable ({exc.strerror or exc})") from None
            if not ok:
                raise damaged(self.path, name, f"content hash mismatch in rows {s['row_start']}-"
                                               f"{s['row_start'] + s['rows'] - 1} (chunk {s['id']})")

    def vectors(self, check: bool = True) -> np.ndarray | StreamedRows:
        """Live rows as float16: streamed from the memmap when nothing was removed, else gathered."""
        if check:
            self.check_vectors()
        mm = self.memmap()
        if len(self.rows) != len(mm):
            return np.asarray(mm[self.rows])
        return StreamedRows(mm) if isinstance(mm, np.memmap) else mm

    # FAISS
    def read_faiss(self) -> faiss.Index:
        """The stored FAISS index (hash-checked), extended in memory by committed rows it does not cover."""
        m = self.manifest
        if not m.get("faiss"):
            return build_faiss(self.memmap(), effective_type(int(m["rows"]), m.get("index_type_requested", "auto")))
        name = m["faiss"]
        data = read_checked(self.path, name, m["files"][name])
        try:
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
        except Exception:
            raise damaged(self.path, name, "not a readable FAISS index") from None
        if index.ntotal != m["faiss_rows"] or index.d != m["dimension"]:
            raise damaged(self.path, name, f"holds {index.ntotal} rows of {index.d} dims, the manifest records "
                                           f"{m['faiss_rows']} of {m['dimension']}")
        if index.ntotal < int(m["rows"]):  # a build that died after committing chunks, before indexing them
            add_rows(index, self.memmap(), index.ntotal, int(m["rows"]))
        return index

    @property
    def faiss_index(self) -> LiveIndex:
        if self._faiss is None:
            index = self.read_faiss()
            set_nprobe(index, self.nprobe)
            self._faiss = LiveIndex(index, self.rows, int(self.manifest["rows"]))
        return self._faiss

    def drop_faiss(self) -> None:
        """Forget the FAISS index (a caller that took :attr:`faiss_index` frees it when done with it)."""
        self._faiss = None

    def load(self) -> LoadedIndex:
        """Everything in memory (claims, vectors, FAISS): for indexes that fit, e.g. contradictions.

        Vectors stay float16, as stored (0.75 KiB a claim at 384 dimensions, half of float32): every stage
        reads them a block of rows at a time as float32 or float64, which gives the same values as an
        up-front float32 copy, since each float16 is exactly a float32."""
        claims = self.claims()
        self.check_vectors()
        mm = self.memmap()
        vectors = np.asarray(mm[self.rows])
        return LoadedIndex(self.path, self.manifest, claims.drop("row", "shard"), vectors, self.faiss_index)


def _release(path: Path, pin: Pin | None) -> None:
    if pin is None:
        return
    with contextlib.suppress(OSError):
        pin.release()
    clean_if_idle(path)


def _pin(path: Path) -> Pin | None:
    try:
        return Pin(path)
    except OSError:  # read-only media: no writer can change it either
        return None


def open_index(name: str | Path, settings: Settings | None = None, embedder: Embedder | None = None,
               extractor: dict | None = None, *, check: bool = True) -> IndexSnapshot:
    """Pin the committed generation of index ``name`` (a name under ``settings.index_dir``, or a path).

    The pin is written, then the manifest read again: if a writer committed in between, the pin moves to
    the newer generation, so the generation returned cannot be cleaned away under the reader.
    ``check=False`` skips the size checks (``verify`` makes its own, listing every problem).
    """
    settings = settings or Settings()
    path = index_path(name, settings.index_dir)
    manifest = read_manifest(path)
    pin = _pin(path)
    try:
        while pin is not None:
            pin.move(int(manifest["generation_number"]), generation_files(manifest))
            again = read_manifest(path)
            if again[CHECKSUM] == manifest[CHECKSUM]:
                break
            manifest = again
        check_compatible(manifest, path, embedder, extractor)
        if check:
            check_sizes(path, manifest)
    except BaseException:
        _release(path, pin)
        raise
    return IndexSnapshot(path, manifest, pin, settings.nprobe)


__all__ = ["IndexSnapshot", "LoadedIndex", "StreamedRows", "open_index"]
