"""One reader per labelled data set under ``--data-dir`` (default ``../shared/data``); nothing is copied.

Every reader returns plain rows or :class:`Pair` objects grouped by the data set's own split, so an
evaluation chooses dev splits to tune on and test splits to report, and never mixes them by accident.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from claimmatch.errors import InputError
from claimmatch.nli import LABELS, read_pairs

DEFAULT_DATA_DIR = Path("../shared/data")


@dataclass(frozen=True)
class Pair:
    s1: str
    s2: str
    label: float  # MRPC 0/1; STS-B gold 0-5; pair sets: see the reader


def nli_rows(path: Path, limit: int = 0) -> list[dict]:
    """NLI rows ({premise, hypothesis, label}), each label checked against the model's labels."""
    rows = read_pairs(path, limit)
    for n, row in enumerate(rows, start=1):
        if row.get("label") not in LABELS:
            raise InputError(f"{path}: row {n}: label {row.get('label')!r} is not one of {LABELS}")
    return rows


def nli_eval_files(data_dir: Path) -> list[Path]:
    return sorted((Path(data_dir) / "nli" / "eval").glob("*.jsonl"))


def nli_eval(data_dir: Path, name: str, limit: int = 0) -> list[dict]:
    return nli_rows(Path(data_dir) / "nli" / "eval" / f"{name}.jsonl", limit)


def _tsv(path: Path) -> list[dict[str, str]]:
    # Sentences contain quotes, so the csv module (not str.split) is needed.
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def mrpc(data_dir: Path, limit: int = 0) -> dict[str, list[Pair]]:
    """MRPC by split (train, test): label 1 = paraphrase."""
    return _paraphrase(Path(data_dir) / "paraphrase" / "mrpc.tsv", "label", limit)


def stsb(data_dir: Path, limit: int = 0) -> dict[str, list[Pair]]:
    """STS-B by split (train, dev, test): label = gold similarity 0-5."""
    return _paraphrase(Path(data_dir) / "paraphrase" / "stsb.tsv", "score", limit)


def _paraphrase(path: Path, column: str, limit: int) -> dict[str, list[Pair]]:
    splits: dict[str, list[Pair]] = {}
    for row in _tsv(path):
        splits.setdefault(row["split"], []).append(Pair(row["sentence1"], row["sentence2"], float(row[column])))
    return {k: v[:limit] if limit else v for k, v in splits.items()}


def calibration_holdout(text_a: str, text_b: str) -> bool:
    """Whether a MRPC/STS-B *train* pair is held out of NLI training (a quarter, by a hash of its texts).

    NLI v6 learned same-claim judgements from MRPC and STS-B train rows; the judge's thresholds are
    calibrated on the held-out quarter only (``benchmarks.same_claim``), and test splits stay unseen.
    """
    digest = hashlib.sha256(f"{text_a}\t{text_b}".encode()).digest()
    return digest[0] % 4 == 0


def pair_set(data_dir: Path, name: str) -> dict[str, list[dict]]:
    """A file of ``pairs/`` ({text_a, text_b, label, source, split}) grouped by split."""
    path = Path(data_dir) / "pairs" / f"{name}.jsonl"
    splits: dict[str, list[dict]] = {}
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            splits.setdefault(row.get("split", ""), []).append(row)
    return splits
