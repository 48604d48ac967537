"""FAISS indexes over claim vectors: type choice, training, filling, and a view that hides removed rows."""

from __future__ import annotations

import faiss
import numpy as np

from claimmatch.errors import ClaimmatchError
from claimmatch.store.layout import INDEX_TYPES

# Exact search up to this many vectors (scripts/bench_index_types.py, docs/BENCHMARKS.md): IVF-SQ8 answers
# the all-claims neighbour search of clustering faster from ~10k vectors, but below ~20k exact search costs
# only seconds and loses nothing.
FLAT_MAX_ROWS = 20_000
# IVF lists are trained once; past this growth factor the coarse quantizer is retrained on rebuild.
RETRAIN_GROWTH = 4.0
# Rows added to FAISS per call: bounds the float32 copy of a float16 memmap block.
ADD_BATCH = 65_536
# Fewer vectors than this many per IVF list make k-means meaningless: exact search instead.
MIN_POINTS_PER_LIST = 39
HNSW_NEIGHBORS = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64
KMEANS_SEED = 1234

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
    if n < 2 * MIN_POINTS_PER_LIST:
        return 1
    target = max(1.0, LISTS_PER_SQRT * float(np.sqrt(n)))
    nlist = 1 << int(round(np.log2(target)))
    return int(max(1, min(nlist, 4096, n // MIN_POINTS_PER_LIST)))


def ivf_nprobe(nlist: int) -> int:
    return int(min(nlist, NPROBE))


def as_f32(block: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(block, dtype=np.float32)


def _training_sample(vectors: np.ndarray, size: int) -> np.ndarray:
    """Evenly spaced rows: deterministic, and for a memmap it reads only the sampled rows."""
    n = len(vectors)
    if n <= size:
        return as_f32(vectors[:n])
    rows = np.linspace(0, n - 1, size).astype(np.int64)
    return as_f32(vectors[rows])


def training_size(kind: str, n: int) -> int:
    """TRAIN_PER_LIST points per IVF list; PQ codebooks (256 centroids each) want about 10k points."""
    return max(TRAIN_PER_LIST * ivf_nlist(n), 10_000 if kind == "ivf-pq" else 0)


def empty_faiss(dim: int, index_type: str, n_expected: int, train_on: np.ndarray | None = None) -> faiss.Index:
    """An index ready for ``add``: IVF types are trained on ``train_on`` (a sample of the data)."""
    if index_type == "flat":
        return faiss.IndexFlatIP(dim)
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_NEIGHBORS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
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
    index.cp.seed = KMEANS_SEED
    index.cp.min_points_per_centroid = 1  # we train on TRAIN_PER_LIST points per list on purpose: no warning
    index.train(as_f32(sample))
    index.nprobe = ivf_nprobe(nlist)
    return index


def effective_type(n: int, requested: str = "auto") -> str:
    """The type an index of ``n`` live vectors gets: IVF needs enough vectors per list, else exact search."""
    kind = choose_index_type(n, requested)
    if kind.startswith("ivf") and n < 2 * MIN_POINTS_PER_LIST:
        return "flat"  # nothing to partition; exact search is both faster and exact
    return kind


def build_faiss(vectors: np.ndarray, index_type: str = "flat") -> faiss.Index:
    """Inner-product index over normalized vectors (cosine), filled in batches so a memmap streams."""
    dim = vectors.shape[1] if vectors.ndim == 2 else 0
    n = len(vectors)
    kind = effective_type(n, index_type)
    train = _training_sample(vectors, training_size(kind, n)) if kind.startswith("ivf") else None
    index = empty_faiss(dim, kind, n, train)
    add_rows(index, vectors, 0, n)
    return index


def add_rows(index: faiss.Index, vectors: np.ndarray, start: int, stop: int) -> None:
    for lo in range(start, stop, ADD_BATCH):
        index.add(as_f32(vectors[lo:min(stop, lo + ADD_BATCH)]))


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

def set_nprobe(index: faiss.Index, nprobe: int) -> None:
    """Search more (or fewer) IVF lists per query: recall for time. No effect on flat or HNSW indexes."""
    if nprobe < 0:
        raise ClaimmatchError(f"nprobe must be 0 (the index's own) or more, got {nprobe}")
    ivf = faiss.downcast_index(index)
    if nprobe and isinstance(ivf, faiss.IndexIVF):
        ivf.nprobe = int(min(nprobe, ivf.nlist))



def merge_shards(index: faiss.Index, vectors: np.ndarray, rows: int, builder) -> None:
    """Fill ``index`` from shard indexes built elsewhere (e.g. Ray tasks) on row blocks, merged in order."""
    template = faiss.serialize_index(index).tobytes()
    step = builder.shard_rows
    blocks = (np.asarray(vectors[lo:min(rows, lo + step)]) for lo in range(0, rows, step))
    for blob in builder.build_shard_indexes(blocks, template):
        part = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
        index.merge_from(part, 0 if isinstance(faiss.downcast_index(index), faiss.IndexFlat) else index.ntotal)

