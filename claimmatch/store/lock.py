"""Who may touch an index: one writer (a lock), any number of readers (pins), and the cleanup between them.

Readers pin a generation rather than share a lock with the writer: a ``cluster`` run over a million claims
holds its generation for minutes, and with a shared lock either the writer would wait that long or the
reader would wait for a build. With pins no one waits; the price is that a superseded generation's files
stay on disk until its last reader closes.

A pin is ``pins/<id>.json`` (the generation and the files it reads) plus ``pins/<id>.lock``, which the
reader holds locked (filelock) while it is open. The kernel releases that lock when the reader dies, even
by ``kill -9``, so a pin whose lock can be taken belongs to a dead reader and is dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from pathlib import Path

from filelock import FileLock, Timeout

from claimmatch.errors import ClaimmatchError
from claimmatch.store.layout import LOCK, OWNED, PINS, TEMP, WRITER_PID
from claimmatch.store.manifest import generation_files, journal_files, read_manifest

# A reader that finds no writer cleans up after itself; a writer waits this long for that to finish.
WRITER_WAIT_S = 2.0


class IndexLock:
    """One writer per index: ``LOCK`` held with filelock; ``WRITER`` names the holder's pid for the message."""

    def __init__(self, path: Path, wait_s: float = WRITER_WAIT_S) -> None:
        self.path = path
        self.wait_s = wait_s
        self._lock: FileLock | None = None

    def __enter__(self) -> IndexLock:
        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.path / LOCK, timeout=self.wait_s, thread_local=False)
        try:
            lock.acquire()
        except Timeout:
            holder = _read(self.path / WRITER_PID) or "unknown"
            raise ClaimmatchError(f"index {self.path} is locked by another writer (pid {holder}); wait for it to "
                                  "finish, or stop that process") from None
        self._lock = lock
        with contextlib.suppress(OSError):
            (self.path / WRITER_PID).write_text(f"{os.getpid()}\n", encoding="ascii")
        return self

    def __exit__(self, *exc) -> None:
        if self._lock is not None:
            with contextlib.suppress(OSError):
                (self.path / WRITER_PID).write_text("", encoding="ascii")
            self._lock.release()
            self._lock = None


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


class Pin:
    """A reader's claim on one generation's files; :meth:`move` re-points it, :meth:`release` drops it."""

    def __init__(self, path: Path) -> None:
        self.folder = path / PINS
        self.id = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self.folder.mkdir(exist_ok=True)
        self._lock = FileLock(self.folder / f"{self.id}.lock", timeout=0, thread_local=False)
        self._lock.acquire()  # before the pin exists: a pin without a held lock is a dead reader's

    def move(self, generation: int, files: list[str]) -> None:
        tmp = self.folder / f".{self.id}.tmp"
        tmp.write_text(json.dumps({"generation": generation, "files": files}), encoding="utf-8")
        os.replace(tmp, self.folder / f"{self.id}.json")

    def release(self) -> None:
        (self.folder / f"{self.id}.json").unlink(missing_ok=True)
        self._lock.release()
        (self.folder / f"{self.id}.lock").unlink(missing_ok=True)


def pinned_files(path: Path) -> set[str]:
    """Files named by live pins; pins of dead readers are removed on the way."""
    folder = path / PINS
    keep: set[str] = set()
    if not folder.is_dir():
        return keep
    for pin in folder.glob("*.json"):
        lock_path = pin.with_suffix(".lock")
        probe = FileLock(lock_path, timeout=0, thread_local=False)
        try:
            probe.acquire()
        except Timeout:  # a live reader
            with contextlib.suppress(OSError, ValueError):
                keep.update(json.loads(pin.read_text(encoding="utf-8"))["files"])
            continue
        except OSError:
            continue
        try:  # its reader is gone
            pin.unlink(missing_ok=True)
        finally:
            probe.release()
            lock_path.unlink(missing_ok=True)
    for stray in folder.glob(".*.tmp"):
        if not (folder / f"{stray.name[1:-4]}.lock").exists():
            stray.unlink(missing_ok=True)
    return keep


def clean(path: Path, keep: set[str]) -> list[str]:
    """Delete this package's files that neither ``keep`` nor a live reader needs. Call with the writer lock."""
    keep = keep | pinned_files(path) | journal_files(path)
    dropped = []
    for p in path.iterdir():
        if p.name in keep or not p.is_file():
            continue
        if OWNED.match(p.name) or TEMP.match(p.name):
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                dropped.append(p.name)
    return dropped


def clean_if_idle(path: Path) -> None:
    """A closing reader removes the generations no one holds any more, unless a writer is at work."""
    lock = FileLock(path / LOCK, timeout=0, thread_local=False)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return  # the writer cleans when it commits
    try:
        with contextlib.suppress(ClaimmatchError, OSError):
            clean(path, set(generation_files(read_manifest(path))))
    finally:
        lock.release()
