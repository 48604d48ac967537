"""Writing a file so that its size and hash are known, and reading one back only if they still match."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import xxhash

from claimmatch.store.layout import damaged

BLOCK = 8 << 20  # bytes hashed per read when streaming a file


def hash_file(path: Path, start: int = 0, length: int | None = None) -> str:
    """xxh3-128 of ``length`` bytes from ``start`` (to the end if None), read in blocks."""
    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        fh.seek(start)
        left = length
        while left is None or left > 0:
            block = fh.read(BLOCK if left is None else min(BLOCK, left))
            if not block:
                break
            h.update(block)
            if left is not None:
                left -= len(block)
    return h.hexdigest()


def write_hashed(path: Path, write: Callable[[Path], None]) -> dict:
    """``write(tmp)`` beside ``path``, fsync, hash, rename: returns the file's manifest entry."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        meta = {"size": tmp.stat().st_size, "xxh3": hash_file(tmp)}
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return meta


def fsync_dir(path: Path) -> None:
    """Make renames in ``path`` durable (a no-op where directories cannot be opened, e.g. Windows)."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_checked(path: Path, name: str, meta: dict) -> bytes:
    """The whole file, if its size and xxh3-128 hash are those the manifest records."""
    try:
        data = (path / name).read_bytes()
    except FileNotFoundError:
        raise damaged(path, name, "file missing") from None
    except OSError as exc:
        raise damaged(path, name, f"unreadable ({exc.strerror or exc})") from None
    if len(data) != meta["size"]:
        raise damaged(path, name, f"size {len(data)} bytes, the manifest records {meta['size']}")
    if xxhash.xxh3_128_hexdigest(data) != meta["xxh3"]:
        raise damaged(path, name, "content hash mismatch (changed or damaged since it was written)")
    return data
