"""Stored claim indexes (``indexes/<name>/``): one way to open one (:func:`open_index`), one writer.

Modules: :mod:`layout` (file names, constants, errors), :mod:`files` (hashed writes, checked reads),
:mod:`manifest` (the committed generation, compatibility), :mod:`lock` (writer lock, reader pins, cleanup),
:mod:`faiss_build` (FAISS types and search), :mod:`reader`, :mod:`writer`, :mod:`ops` (build/add/remove/
info/search/cluster), :mod:`verify` and :mod:`compact`.
"""

from claimmatch.store.compact import CompactReport, compact_index
from claimmatch.store.faiss_build import LiveIndex, build_faiss, search, set_nprobe
from claimmatch.store.layout import IndexDamaged, WriteFailed, index_path
from claimmatch.store.lock import IndexLock
from claimmatch.store.manifest import read_manifest
from claimmatch.store.ops import (
    UpdateReport,
    cluster_index,
    index_info,
    remove_documents,
    search_index,
    update_index,
)
from claimmatch.store.reader import IndexSnapshot, LoadedIndex, open_index
from claimmatch.store.verify import VerifyReport, verify_index
from claimmatch.store.writer import IndexWriter, save_index

__all__ = [
    "CompactReport", "IndexDamaged", "IndexLock", "IndexSnapshot", "IndexWriter", "LiveIndex", "LoadedIndex",
    "UpdateReport", "VerifyReport", "WriteFailed", "build_faiss", "cluster_index", "compact_index", "index_info",
    "index_path", "open_index", "read_manifest", "remove_documents", "save_index", "search", "search_index",
    "set_nprobe", "update_index", "verify_index",
]
