"""Stored results of ``claimmatch contradictions --index``: what an incremental rerun starts from.

``<index>/contradictions/`` holds ``scores.parquet`` (every pair scored by the contradiction stage, with
its NLI probabilities and a hash of its two texts), ``judged.parquet`` (every candidate pair of the
clustering stage with the judge's verdict, as positions in ``seen.parquet``), ``seen.parquet`` (the
claim ids of that run in id order, each with a hash of its whole row), ``targets.parquet`` (who-did-it's
target-phrase pairs at or above the target threshold, with their similarity) and ``state.json`` (the NLI
model, judge settings, and embedder and target threshold that gave them). A rerun after ``index add`` reuses the stored scores and verdicts of
pairs whose two claims are unchanged, so the model and the judge see only pairs that involve claims added
(or changed) since, and who-did-it compares only target phrases it has not seen with the others; pairs
of removed claims are dropped because they are no longer candidates. Results
of another model or other judge settings are ignored. Files are written to a temporary name and renamed,
under a lock, so a crash or a concurrent run never leaves a half-written store. Nothing here reads index
internals: the caller passes the folder.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from filelock import FileLock

from claimmatch.cluster import Candidates, KnownVerdicts
from claimmatch.contradict.candidates import claim_id_rank
from claimmatch.contradict.stage import SCORE_SCHEMA
from claimmatch.contradict.who_did_it import TARGET_SCHEMA
from claimmatch.errors import ClaimmatchError
from claimmatch.judge import Judgement

FOLDER = "contradictions"
STATE_VERSION = 2
SEEN_SCHEMA = {"claim_id": pl.String, "claim_key": pl.UInt64}
JUDGED_SCHEMA = {"a": pl.UInt32, "b": pl.UInt32, "same": pl.Boolean, "veto": pl.Boolean}
_KEY_SEED = 20_261_206


@dataclass
class Stored:
    scores: pl.DataFrame | None  # None: nothing usable stored (first run, or another model)
    seen: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=SEEN_SCHEMA))  # claim-id order
    judged: pl.DataFrame | None = None  # None: no verdicts of this judge and these settings
    targets: pl.DataFrame | None = None  # None: no target cells of this embedder and target threshold

    @property
    def ids(self) -> set[str]:
        return set(self.seen["claim_id"].to_list())


def store_dir(index_dir: Path) -> Path:
    return Path(index_dir) / FOLDER


def claim_keys(claims: pl.DataFrame) -> np.ndarray:
    """A hash of each claim's whole row (text, frame, outlet, ...): equal keys mean an unchanged claim.

    polars' hash is stable for one polars version (``state.json`` records it); under another version
    every claim reads as changed, which costs time (verdicts judged and texts hashed again), never
    correctness.
    """
    if claims.is_empty():
        return np.zeros(0, np.uint64)
    return claims.select(pl.struct(pl.all()).hash(seed=_KEY_SEED).alias("k"))["k"].to_numpy().astype(np.uint64)


def load(folder: Path, model_name: str, judge_setup: dict | None = None, who_setup: dict | None = None) -> Stored:
    """The stored results, or nothing when there are none or they came from another model; the judge's
    verdicts only when ``judge_setup`` (judge, thresholds, text field) is the one they were made with, and
    who-did-it's target cells only under the same ``who_setup`` (embedder, target threshold)."""
    state_path = folder / "state.json"
    if not state_path.exists():
        return Stored(None)
    try:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if state.get("version") != STATE_VERSION or state.get("model") != model_name:
            return Stored(None)
        scores = pl.read_parquet(folder / "scores.parquet")
        seen = pl.read_parquet(folder / "seen.parquet")
        judged = (pl.read_parquet(folder / "judged.parquet")
                  if judge_setup is not None and state.get("judge") == judge_setup else None)
        targets = (pl.read_parquet(folder / "targets.parquet")
                   if who_setup is not None and state.get("who_did_it") == who_setup
                   and (folder / "targets.parquet").exists() else None)
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise ClaimmatchError(f"{folder}: stored contradiction results unreadable ({exc}); delete the folder "
                              "to score every pair again") from None
    for name, table, schema in (("scores", scores, SCORE_SCHEMA), ("seen", seen, SEEN_SCHEMA),
                                ("judged", judged, JUDGED_SCHEMA), ("targets", targets, TARGET_SCHEMA)):
        if table is not None and dict(table.schema) != schema:
            raise ClaimmatchError(f"{folder / (name + '.parquet')}: unexpected columns; delete {folder} to score "
                                  "every pair again")
    return Stored(scores, seen, judged, targets)


def unchanged(stored: Stored, claim_ids: list[str], keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fresh, row_of): per current row, whether its claim was stored with the same key; per stored claim,
    its current row, or -1 when it was removed or has changed."""
    rows = pl.DataFrame({"claim_id": pl.Series(claim_ids, dtype=pl.String), "claim_key": keys,
                         "row": np.arange(len(claim_ids), dtype=np.int64)})
    hit = stored.seen.with_row_index("pos").join(rows, on=["claim_id", "claim_key"], how="inner")
    row_of = np.full(len(stored.seen), -1, np.int64)
    row_of[hit["pos"].to_numpy()] = hit["row"].to_numpy()
    fresh = np.zeros(len(claim_ids), bool)
    fresh[hit["row"].to_numpy()] = True
    return fresh, row_of


def known_verdicts(stored: Stored, row_of: np.ndarray, n: int) -> KnownVerdicts | None:
    """The stored verdicts of pairs whose two claims are still here and unchanged, over current rows."""
    if stored.judged is None:
        return None
    a = row_of[stored.judged["a"].to_numpy().astype(np.int64)]
    b = row_of[stored.judged["b"].to_numpy().astype(np.int64)]
    keep = (a >= 0) & (b >= 0)
    lo, hi = np.minimum(a[keep], b[keep]), np.maximum(a[keep], b[keep])
    codes = lo * n + hi
    order = np.argsort(codes, kind="stable")
    return KnownVerdicts(codes[order], stored.judged["same"].to_numpy()[keep][order],
                         stored.judged["veto"].to_numpy()[keep][order])


def verdict_table(claim_ids: list[str], cand: Candidates, verdict: Judgement,
                  judged: np.ndarray | None = None) -> pl.DataFrame:
    """This run's verdicts by position in claim-id order (what ``seen.parquet`` lists), sorted; only the
    ``judged`` pairs when given (a pair never judged has no verdict to reuse)."""
    rank = claim_id_rank(claim_ids)
    a, b = rank[cand.i], rank[cand.j]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((hi, lo))
    if judged is not None:
        order = order[np.asarray(judged, bool)[order]]
    return pl.DataFrame({"a": lo[order], "b": hi[order], "same": np.asarray(verdict.same, bool)[order],
                         "veto": np.asarray(verdict.veto, bool)[order]}).cast(JUDGED_SCHEMA)


def _write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(folder: Path, scores: pl.DataFrame, claim_ids: list[str], keys: np.ndarray, model_name: str,
         judged: pl.DataFrame | None = None, judge_setup: dict | None = None,
         targets: pl.DataFrame | None = None, who_setup: dict | None = None) -> None:
    """Replace the stored results with this run's (tables first; state last marks them complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder / ".lock")):
        (folder / "state.json").unlink(missing_ok=True)  # a crash below leaves no store, not a mixed one
        _write(folder / "scores.parquet", lambda p: scores.write_parquet(p, statistics=False))
        order = np.argsort(claim_id_rank(claim_ids))  # the order verdict_table's positions count in
        seen = pl.DataFrame({"claim_id": pl.Series(np.asarray(claim_ids, dtype=object)[order], dtype=pl.String),
                             "claim_key": np.asarray(keys, np.uint64)[order]}).cast(SEEN_SCHEMA)
        _write(folder / "seen.parquet", lambda p: seen.write_parquet(p, statistics=False))
        if judged is not None:
            _write(folder / "judged.parquet", lambda p: judged.write_parquet(p, statistics=False))
        else:
            (folder / "judged.parquet").unlink(missing_ok=True)
        if targets is not None:
            _write(folder / "targets.parquet", lambda p: targets.write_parquet(p, statistics=False))
        else:
            (folder / "targets.parquet").unlink(missing_ok=True)
        state = {"version": STATE_VERSION, "model": model_name, "polars": pl.__version__, "judge": judge_setup,
                 "who_did_it": who_setup if targets is not None else None, "pairs": len(scores),
                 "claims": len(claim_ids)}
        _write(folder / "state.json", lambda p: p.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8"))
