"""On-disk NLI result cache: a re-run scores no pair it has scored before.

One SQLite table beside the embedding cache (``<cache_dir>/nli.sqlite``) maps (model, pair key) to the
three probabilities. The model name carries the weights hash and the precision, so scores of another model
or variant are never mixed in; the pair key is a 128-bit BLAKE2b of the two texts (length-prefixed, so
the boundary between premise and hypothesis is part of the key). Values are the float32 probabilities as
computed, so a cached score equals a fresh one bit for bit.

Several processes may read and write at once (WAL journal, busy timeout). A damaged cache file never
stops a run: it is reported on one line, moved aside and rebuilt empty; damage found mid-run switches the
cache off for the rest of the run.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

CACHE_FILE = "nli.sqlite"
SCHEMA_VERSION = 1
N_LABELS = 3
BUSY_TIMEOUT_S = 60.0
_CHUNK = 500  # keys per SELECT: below SQLite's bound-parameter limit


def pair_key(premise: str, hypothesis: str) -> bytes:
    """16 bytes that identify the ordered pair; (a, b) and (b, a) differ."""
    a, b = premise.encode("utf-8"), hypothesis.encode("utf-8")
    h = hashlib.blake2b(digest_size=16)
    h.update(len(a).to_bytes(8, "little"))
    h.update(a)
    h.update(b)
    return h.digest()


class NLICache:
    """(model, pair key) → float32 probabilities[3], shared by every run that uses the same cache folder.

    The connection opens on first use and ``close`` releases it; the object can be reused after closing.
    """

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / CACHE_FILE
        self._db: sqlite3.Connection | None = None
        self.disabled = False

    def __enter__(self) -> NLICache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> sqlite3.Connection | None:
        if self.disabled:
            return None
        if self._db is None:
            try:
                self._db = self._open()
            except sqlite3.DatabaseError as exc:
                self._db = self._rebuild(exc)
            except OSError as exc:
                self._disable(f"cannot open it ({exc.strerror or exc})")
        return self._db

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS nli (model TEXT NOT NULL, key BLOB NOT NULL, probs BLOB NOT NULL, "
                       "PRIMARY KEY (model, key)) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            (version,) = db.execute("SELECT value FROM meta WHERE name='schema'").fetchone()
            if version != str(SCHEMA_VERSION):
                raise sqlite3.DatabaseError(f"schema version {version}, expected {SCHEMA_VERSION}")
            db.execute("SELECT 1 FROM nli LIMIT 1").fetchall()
        except BaseException:
            db.close()
            raise
        return db

    def _rebuild(self, exc: BaseException) -> sqlite3.Connection | None:
        """Move the damaged file aside (kept for inspection) and start an empty cache."""
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
        log.warning("%s: NLI cache is damaged (%s); moved it to %s and starting an empty cache",
                    self.path, _first_line(exc), aside.name)
        try:
            if self.path.exists():
                os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return self._open()
        except (OSError, sqlite3.DatabaseError) as again:
            self._disable(f"cannot rebuild it ({_first_line(again)})")
            return None

    def _disable(self, why: str) -> None:
        log.warning("%s: NLI cache %s; scoring without it", self.path, why)
        self.disabled = True
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None

    def get_many(self, model: str, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached probabilities of those ``keys`` that are cached."""
        db = self._connect()
        found: dict[bytes, np.ndarray] = {}
        if db is None or not keys:
            return found
        try:
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start:start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                for key, data in db.execute(f"SELECT key, probs FROM nli WHERE model=? AND key IN ({marks})",
                                            [model, *chunk]):
                    value = np.frombuffer(data, dtype=np.float32)
                    if value.shape == (N_LABELS,):
                        found[key] = value
        except sqlite3.DatabaseError as exc:
            self._disable(f"failed on read ({_first_line(exc)})")
            return {}
        return found

    def put_many(self, model: str, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        """Store results in one transaction (an existing row for the same pair is kept)."""
        db = self._connect()
        if db is None:
            return
        rows = [(model, key, np.asarray(p, dtype=np.float32).tobytes()) for key, p in items]
        if not rows:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR IGNORE INTO nli VALUES (?, ?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        except sqlite3.DatabaseError as exc:
            self._disable(f"failed on write ({_first_line(exc)})")

    def count(self, model: str | None = None) -> int:
        db = self._connect()
        if db is None:
            return 0
        if model is None:
            return int(db.execute("SELECT COUNT(*) FROM nli").fetchone()[0])
        return int(db.execute("SELECT COUNT(*) FROM nli WHERE model=?", (model,)).fetchone()[0])

    def close(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            finally:
                self._db = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
