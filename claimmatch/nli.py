"""Three-way NLI cross-encoder: tells claims that agree from claims that contradict each other.

The weights ship with the package (``claimmatch/models/nli/``, fp16 safetensors written by
``scripts/train_nli.py``) and are loaded offline; inference runs in float32 because fp16 matmuls are
slow on CPU. Faster variants of the same weights (int8, bf16, ONNX Runtime) are chosen by
``precision`` (``Settings.nli_precision``; measured in ``docs/BENCHMARKS.md``). See
``docs/NLI_MODEL.md`` for how the model was trained and how well it does.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from claimmatch.config import NLI_PRECISIONS, default_cache_dir
from claimmatch.errors import ClaimmatchError, InputError
from claimmatch.progress import no_weight_loading_bar

log = logging.getLogger(__name__)

LABELS = ("entailment", "neutral", "contradiction")
MODEL_DIR = Path(__file__).parent / "models" / "nli"
WEIGHTS_FILE = "model.safetensors"
MAX_LENGTH = 256
NAME_PREFIX = "claimmatch-nli-minilm-l6"
# A batch costs about pairs × tokens² (attention), so long pairs go in smaller batches: 64 pairs of 128
# tokens is the largest batch; 256-token pairs go 16 at a time (a 64 × 256 batch cost ~0.7 GB more RSS).
MAX_BATCH_COST = 64 * 128 * 128

_CACHE: dict[tuple, NLIModel] = {}
# glibc serves allocations above this from mmap, returned to the system when freed (its default, before it
# starts raising the threshold to the largest block freed so far).
MMAP_THRESHOLD = 128 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt parameter number, glibc's malloc.h


def fix_mmap_threshold(threshold: int = MMAP_THRESHOLD) -> bool:
    """Pin glibc's mmap threshold, so the model's activation buffers go back to the system after each batch.

    By default glibc raises the threshold to the largest block freed; after the first batches, activations of
    every width then come from the heap, where freed holes are reused only by blocks that fit and small
    long-lived objects (the scorer's memo) keep the heap from shrinking. Measured on 12k pairs through NLI v4
    in bf16 (docs/BENCHMARKS.md, "NLI at corpus scale"): peak RSS 1,010 → 813 MiB, no slower. A no-op (False)
    where the C library is not glibc.
    """
    import ctypes
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False


class NLIModel:
    """A loaded cross-encoder; ``predict`` returns probabilities in ``LABELS`` order."""

    labels = LABELS

    def __init__(self, model: Any, tokenizer: Any, path: Path, weights_sha256: str, device: str = "cpu",
                 max_length: int = MAX_LENGTH, precision: str = "fp32",
                 max_batch_cost: int = MAX_BATCH_COST) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.path = path
        self.weights_sha256 = weights_sha256
        self.device = device
        self.max_length = max_length
        self.precision = precision
        self.max_batch_cost = max_batch_cost

    @property
    def name(self) -> str:
        """Names the exact weights and precision, so cached scores from another variant are never mixed in."""
        base = f"{NAME_PREFIX}-{self.weights_sha256[:12]}"
        return base if self.precision == "fp32" else f"{base}-{self.precision}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, path={str(self.path)!r}, device={self.device!r})"

    def _logits(self, input_ids: np.ndarray, mask: np.ndarray, token_types: np.ndarray | None) -> np.ndarray:
        """Logits (b, 3) for one padded batch; ONNX Runtime variants override this."""
        import torch

        inputs = {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
        if token_types is not None:
            inputs["token_type_ids"] = torch.from_numpy(token_types)
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            return self.model(**inputs).logits.float().cpu().numpy()

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> np.ndarray:
        """Probabilities (n, 3) for (premise, hypothesis) pairs, rows in input order.

        Pairs are tokenized once, sorted by token length and padded per batch, so a batch of short
        claims is not padded to the length of one long sentence elsewhere in the input; a batch of long
        pairs holds fewer of them (``max_batch_cost`` bounds pairs × tokens²), so memory stays bounded.
        """
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
        start = 0
        while start < n:
            width = int(lengths[order[start]])
            size = max(1, min(batch_size, self.max_batch_cost // max(1, width * width)))
            idx = order[start:start + size]
            start += len(idx)
            input_ids = np.full((len(idx), width), pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            token_types = np.zeros((len(idx), width), dtype=np.int64) if types is not None else None
            for row, i in enumerate(idx):
                k = int(lengths[i])
                input_ids[row, :k] = ids[i]
                mask[row, :k] = 1
                if token_types is not None:
                    token_types[row, :k] = types[i]
            out[idx] = _softmax(self._logits(input_ids, mask, token_types))
        return out


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float32) - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def load_model(path: str | Path | None = None, *, device: str = "cpu", threads: int | None = None,
               precision: str = "fp32", cache_dir: str | Path | None = None) -> NLIModel:
    """Load the shipped (or a given) model folder offline; cached per folder, weights file and precision.

    ``precision`` picks the inference path for the same weights: ``fp32`` (torch), ``bf16`` (torch),
    ``int8`` (torch dynamic quantisation of the Linear layers), ``onnx`` and ``onnx-int8`` (ONNX Runtime,
    exported once into ``cache_dir``, see :mod:`claimmatch.nli_onnx`).
    A missing folder or an unreadable weight file is a user-fixable installation problem, so it is
    raised as :class:`ClaimmatchError` naming the path rather than as a transformers traceback.
    """
    import torch

    if precision not in NLI_PRECISIONS:
        raise ClaimmatchError(f"unknown NLI precision {precision!r}; use one of {', '.join(NLI_PRECISIONS)}")
    if threads:
        torch.set_num_threads(threads)
    fix_mmap_threshold()
    base = _load_fp32(path, device)
    if precision == "fp32":
        return base
    key = (str(base.path.resolve()), device, base.weights_sha256, precision, str(cache_dir or ""))
    if key not in _CACHE:
        _CACHE[key] = _variant(base, precision, Path(cache_dir) if cache_dir else Path(default_cache_dir()))
    return _CACHE[key]


def _variant(base: NLIModel, precision: str, cache_dir: Path) -> NLIModel:
    import torch

    if precision == "int8":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's deprecation notice for quantized tensors: noise on every run
            model = torch.ao.quantization.quantize_dynamic(copy.deepcopy(base.model), {torch.nn.Linear},
                                                           dtype=torch.qint8)
        return NLIModel(model, base.tokenizer, base.path, base.weights_sha256, base.device, precision="int8")
    if precision == "bf16":
        if not cpu_has_bf16():
            log.warning("this CPU has no bf16 instructions (AVX512-BF16/AMX), where bf16 is slower than fp32; "
                        "scoring NLI in fp32 (set nli_precision to silence this)")
            return base
        model = copy.deepcopy(base.model).to(torch.bfloat16)
        return NLIModel(model, base.tokenizer, base.path, base.weights_sha256, base.device, precision="bf16")
    from claimmatch.nli_onnx import load_onnx

    return load_onnx(base, cache_dir, quantized=precision == "onnx-int8")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (measured 3× fp32 with AMX); without it bf16 is emulated, slow."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(check() for check in checks if check is not None)


def _weights_file(path: str | Path | None) -> tuple[Path, Path]:
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
    return folder, weights


class LazyNLIModel:
    """The model :func:`load_model` would give, loaded at the first ``predict``.

    Its ``name`` (weights hash and precision) is known without loading, so a run whose pairs all come from
    the result cache never pays the model load (tens of seconds on a busy machine).
    """

    labels = LABELS

    def __init__(self, path: str | Path | None = None, *, precision: str = "fp32",
                 cache_dir: str | Path | None = None) -> None:
        if precision not in NLI_PRECISIONS:
            raise ClaimmatchError(f"unknown NLI precision {precision!r}; use one of {', '.join(NLI_PRECISIONS)}")
        folder, weights = _weights_file(path)
        self.path = folder
        self.cache_dir = cache_dir
        self.weights_sha256 = file_sha256(weights)
        if precision == "bf16" and not cpu_has_bf16():
            precision = "fp32"  # what load_model will give (it warns when it loads)
        self.precision = precision
        base = f"{NAME_PREFIX}-{self.weights_sha256[:12]}"
        self.name = base if precision == "fp32" else f"{base}-{precision}"
        self._model: NLIModel | None = None

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> NLIModel:
        if self._model is None:
            model = load_model(self.path, precision=self.precision, cache_dir=self.cache_dir)
            if model.name != self.name:
                raise ClaimmatchError(f"NLI weights in {self.path} changed during the run ({self.name} became "
                                      f"{model.name}); run again")
            self._model = model
        return self._model

    def predict(self, pairs: Sequence[tuple[str, str]], batch_size: int = 64) -> np.ndarray:
        return self.load().predict(pairs, batch_size=batch_size)


def _load_fp32(path: str | Path | None, device: str) -> NLIModel:
    import torch

    folder, weights = _weights_file(path)
    stat = weights.stat()
    key = (str(folder.resolve()), device, stat.st_mtime_ns, stat.st_size, "fp32")
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
