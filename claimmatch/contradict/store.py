"""Stored results of ``claimmatch contradictions --index``: what an incremental rerun starts from.

``<index>/contradictions/`` holds ``scores.parquet`` (every pair scored for the index's claims, with its
NLI probabilities and a hash of its two texts), ``seen.parquet`` (the claim ids of that run) and
``state.json`` (the NLI model that gave the scores). A rerun after ``index add`` reuses the stored
scores of unchanged pairs, so the model sees only pairs that involve claims added since; pairs of
removed claims are dropped because they are no longer candidates. Stored scores of another model are
ignored. Files are written to a temporary name and renamed, under a lock, so a crash or a concurrent run
never leaves a half-written store. Nothing here reads index internals: the caller passes the folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from filelock import FileLock

from claimmatch.contradict.stage import SCORE_SCHEMA
from claimmatch.errors import ClaimmatchError

FOLDER = "contradictions"
STATE_VERSION = 1


@dataclass
class Stored:
    scores: pl.DataFrame | None  # None: nothing usable stored (first run, or another model)
    seen: set[str]


def store_dir(index_dir: Path) -> Path:
    return Path(index_dir) / FOLDER


def load(folder: Path, model_name: str) -> Stored:
    """The stored scores and claim ids, or nothing when there are none or they came from another model."""
    state_path = folder / "state.json"
    if not state_path.exists():
        return Stored(None, set())
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("version") != STATE_VERSION or state.get("model") != model_name:
            return Stored(None, set())
        scores = pl.read_parquet(folder / "scores.parquet")
        seen = set(pl.read_parquet(folder / "seen.parquet")["claim_id"].to_list())
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise ClaimmatchError(f"{folder}: stored contradiction results unreadable ({exc}); delete the folder "
                              "to score every pair again") from None
    if dict(scores.schema) != SCORE_SCHEMA:
        raise ClaimmatchError(f"{folder / 'scores.parquet'}: unexpected columns; delete {folder} to score "
                              "every pair again")
    return Stored(scores, seen)


def _write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(folder: Path, scores: pl.DataFrame, claim_ids: list[str], model_name: str) -> None:
    """Replace the stored results with this run's (scores first; state last marks them complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        _write(folder / "scores.parquet", lambda p: scores.write_parquet(p, statistics=False))
        seen = pl.DataFrame({"claim_id": sorted(claim_ids)}, schema={"claim_id": pl.String})
        _write(folder / "seen.parquet", lambda p: seen.write_parquet(p, statistics=False))
        state = {"version": STATE_VERSION, "model": model_name, "pairs": len(scores), "claims": len(claim_ids)}
        _write(folder / "state.json", lambda p: p.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8"))
