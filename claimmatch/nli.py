"""Three-way NLI cross-encoder: tells claims that agree from claims that contradict each other.

The weights ship with the package (``claimmatch/models/nli/``, fp16 safetensors written by
``scripts/train_nli.py``) and are loaded offline; inference runs in float32 because fp16 matmuls are
slow on CPU. See ``docs/NLI_MODEL.md`` for how the model was trained and how well it does.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from claimmatch.errors import ClaimmatchError, InputError
from claimmatch.progress import no_weight_loading_bar

LABELS = ("entailment", "neutral", "contradiction")
MODEL_DIR = Path(__file__).parent / "models" / "nli"
WEIGHTS_FILE = "model.safetensors"
MAX_LENGTH = 256
NAME_PREFIX = "claimmatch-nli-minilm-l6"

_CACHE: dict[tuple[str, str, int, int], NLIModel] = {}


class NLIModel:
    """A loaded cross-encoder; ``predict`` returns probabilities in ``LABELS`` order."""

    labels = LABELS

    def __init__(self, model: Any, tokenizer: Any, path: Path, weights_sha256: str, device: str = "cpu",
                 max_length: int = MAX_LENGTH) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.path = path
        self.weights_sha256 = weights_sha256
        self.device = device
        self.max_length = max_length

    @property
    def name(self) -> str:
        """Names the exact weights, so cached scores from another model are never mixed in."""
        return f"{NAME_PREFIX}-{self.weights_sha256[:12]}"

    def __repr__(self) -> str:
        return f"NLIModel(name={self.name!r}, path={str(self.path)!r}, device={self.device!r})"

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> np.ndarray:
        """Probabilities (n, 3) for (premise, hypothesis) pairs, rows in input order.

        Pairs are tokenized once, sorted by token length and padded per batch, so a batch of short
        claims is not padded to the length of one long sentence elsewhere in the input.
        """
        import torch

        n = len(pairs)
        out = np.zeros((n, len(LABELS)), dtype=np.float32)
        if n == 0:
            return out
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        for i, pair in enumerate(pairs):
            if len(pair) != 2 or not isinstance(pair[0], str) or not isinstance(pair[1], str):
                raise ValueError(f"pair {i} is not a (premise, hypothesis) tuple of two strings: {pair!r}")
        enc = self.tokenizer([p for p, _ in pairs], [h for _, h in pairs], truncation=True,
                             max_length=self.max_length)
        ids = enc["input_ids"]
        types = enc.get("token_type_ids")
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=n)
        order = np.argsort(-lengths, kind="stable")  # longest first: a memory problem shows at once
        pad_id = self.tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, n, batch_size):
                idx = order[start:start + batch_size]
                width = int(lengths[idx].max())
                input_ids = np.full((len(idx), width), pad_id, dtype=np.int64)
                mask = np.zeros((len(idx), width), dtype=np.int64)
                token_types = np.zeros((len(idx), width), dtype=np.int64)
                for row, i in enumerate(idx):
                    k = int(lengths[i])
                    input_ids[row, :k] = ids[i]
                    mask[row, :k] = 1
                    if types is not None:
                        token_types[row, :k] = types[i]
                inputs = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
                if types is not None:
                    inputs["token_type_ids"] = torch.from_numpy(token_types)
                inputs = {k: v.to(self.device) for k, v in inputs.items()}
                logits = self.model(**inputs).logits.float()
                out[idx] = torch.softmax(logits, dim=-1).cpu().numpy()
        return out


def load_model(path: str | Path | None = None, *, device: str = "cpu",
               threads: int | None = None) -> NLIModel:
    """Load the shipped (or a given) model folder offline; cached per folder and weights file.

    A missing folder or an unreadable weight file is a user-fixable installation problem, so it is
    raised as :class:`ClaimmatchError` naming the path rather than as a transformers traceback.
    """
    import torch

    if threads:
        torch.set_num_threads(threads)
    folder = Path(path) if path is not None else MODEL_DIR
    if not folder.is_dir():
        raise ClaimmatchError(
            f"NLI model folder {folder} not found; reinstall claimmatch or pass the folder written by "
            "scripts/train_nli.py --out")
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise ClaimmatchError(
            f"NLI weight file {weights} is missing; reinstall claimmatch or re-export the model with "
            "scripts/train_nli.py --out")
    stat = weights.stat()
    key = (str(folder.resolve()), device, stat.st_mtime_ns, stat.st_size)
    if key in _CACHE:
        return _CACHE[key]

    sha = file_sha256(weights)
    _check_safetensors(weights)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    try:
        with no_weight_loading_bar():
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(
                str(folder), local_files_only=True, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ClaimmatchError(
            f"NLI model in {folder} could not be loaded ({_first_line(exc)}); reinstall claimmatch or "
            "re-export the model with scripts/train_nli.py --out") from exc
    id2label = {int(k): v for k, v in model.config.id2label.items()}
    if tuple(id2label.get(i) for i in range(len(LABELS))) != LABELS or len(id2label) != len(LABELS):
        raise ClaimmatchError(
            f"NLI model in {folder} has labels {id2label}, expected {list(LABELS)} in that order; "
            "use a model exported by scripts/train_nli.py")
    model = model.float().to(device).eval()
    nli = NLIModel(model, tokenizer, folder, sha, device=device)
    _CACHE[key] = nli
    return nli


def clear_cache() -> None:
    """Forget loaded models (tests that need a fresh load call this)."""
    _CACHE.clear()


def predict_both_directions(model: NLIModel, pairs: Sequence[tuple[str, str]],
                            batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities for (a, b) and (b, a) from one batched call.

    Contradiction is symmetric but a small model's scores are not, so the contradiction finder
    looks at both directions; one call lets both directions share length-sorted batches.
    """
    pairs = list(pairs)
    probs = model.predict(pairs + [(b, a) for a, b in pairs], batch_size=batch_size)
    return probs[:len(pairs)], probs[len(pairs):]


def read_pairs(path: Path, limit: int = 0) -> list[dict]:
    """The rows of a JSONL file of {"premise", "hypothesis", ...} objects (the first ``limit`` if set).

    Every row is checked, so a bad row at the end of a long file fails before any inference, with
    its line number.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read NLI pairs ({_first_line(exc)})") from exc
    rows: list[dict] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{path}:{lineno}: not valid JSON ({exc.msg}); expected one object a line") from exc
        if not isinstance(row, dict):
            raise InputError(f"{path}:{lineno}: expected a JSON object with premise and hypothesis")
        for field in ("premise", "hypothesis"):
            if not isinstance(row.get(field), str):
                raise InputError(f"{path}:{lineno}: field {field!r} is missing or not a string")
        rows.append(row)
        if limit and len(rows) >= limit:
            break
    return rows


def score_file(path: Path, model: NLIModel, batch_size: int = 64) -> list[dict]:
    """Score a JSONL file of {"premise", "hypothesis"} rows.

    Output rows carry the predicted ``label`` and one probability per label; a gold ``label`` in the
    input is kept as ``gold_label``.
    """
    rows = read_pairs(path)
    probs = model.predict([(r["premise"], r["hypothesis"]) for r in rows], batch_size=batch_size)
    out = []
    for row, p in zip(rows, probs, strict=True):
        scored = {"premise": row["premise"], "hypothesis": row["hypothesis"],
                  "label": LABELS[int(p.argmax())]}
        scored.update({name: float(v) for name, v in zip(LABELS, p, strict=True)})
        if "label" in row:
            scored["gold_label"] = row["label"]
        out.append(scored)
    return out


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_safetensors(weights: Path) -> None:
    """Read every tensor once: a truncated or overwritten file fails here with its path named."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(weights), framework="pt") as fh:
            names = list(fh.keys())
            for name in names:
                fh.get_slice(name)
        if not names:
            raise ValueError("no tensors in file")
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise ClaimmatchError(
            f"NLI weight file {weights} is corrupt ({_first_line(exc)}); reinstall claimmatch or re-export "
            "the model with scripts/train_nli.py --out") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
