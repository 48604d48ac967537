"""ONNX Runtime variants of the NLI cross-encoder: exported once per weights file, cached, then reused.

The export is made at first use from the loaded torch model and kept under the cache folder, keyed by
the weights hash (``<cache>/nli-onnx/<sha>/model.onnx``, plus ``model-int8.onnx`` for the dynamically
quantised copy). Files are written to a temp name and renamed, so a killed export or two processes
exporting at once never leave a half-written model; a damaged cached file is reported on one line and
exported again. Nothing here is committed: the files are built from the shipped weights.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from claimmatch.errors import ClaimmatchError
from claimmatch.nli import NLIModel

log = logging.getLogger(__name__)

EXPORT_DIR = "nli-onnx"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
# ONNX Runtime and torch differ by float rounding only; anything larger means a broken export.
MAX_EXPORT_DIFF = 1e-3


class OnnxNLIModel(NLIModel):
    """The same tokenizer and length-sorted batching as :class:`NLIModel`; ONNX Runtime computes the logits."""

    def __init__(self, session, base: NLIModel, precision: str, file: Path, cache_dir: Path | None = None) -> None:
        super().__init__(None, base.tokenizer, base.path, base.weights_sha256, "cpu", base.max_length,
                         precision=precision, max_batch_cost=base.max_batch_cost)
        self.session = session
        self.file = file
        self.cache_dir = cache_dir  # Ray workers load the same export from here
        self._inputs = {i.name for i in session.get_inputs()}

    def _logits(self, input_ids: np.ndarray, mask: np.ndarray, token_types: np.ndarray | None) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = token_types if token_types is not None else np.zeros_like(input_ids)
        return self.session.run(["logits"], feeds)[0]


def export_dir(cache_dir: Path, weights_sha256: str) -> Path:
    return Path(cache_dir) / EXPORT_DIR / weights_sha256[:16]


def load_onnx(base: NLIModel, cache_dir: Path, quantized: bool, threads: int | None = None) -> OnnxNLIModel:
    """The ONNX Runtime model for ``base``'s weights, exporting (and quantising) it on first use."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ClaimmatchError("NLI precision onnx needs onnxruntime and onnx: pip install 'claimmatch[onnx]'") from None
    folder = export_dir(cache_dir, base.weights_sha256)
    fp32 = folder / "model.onnx"
    target = folder / "model-int8.onnx" if quantized else fp32
    for attempt in range(2):
        if not fp32.is_file():
            _export(base, fp32)
        if quantized and not target.is_file():
            _quantize(fp32, target)
        try:
            session = _session(target, threads)
            model = OnnxNLIModel(session, base, "onnx-int8" if quantized else "onnx", target, Path(cache_dir))
            if not quantized:
                _check_equal(model, base)
            return model
        except _Damaged as exc:
            if attempt:
                raise ClaimmatchError(f"{target}: ONNX export unusable ({exc}); set nli_precision to fp32") from None
            log.warning("%s: cached ONNX model is damaged (%s); exporting it again", target, exc)
            for path in (fp32, target):
                path.unlink(missing_ok=True)
    raise AssertionError("unreachable")


class _Damaged(Exception):
    pass


def _session(path: Path, threads: int | None):
    import onnxruntime as ort
    import torch

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or torch.get_num_threads()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own pybind classes (InvalidProtobuf, Fail, ...)
        raise _Damaged(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__) from None


def _probe(base: NLIModel) -> dict[str, np.ndarray]:
    enc = base.tokenizer(["A man is playing a guitar on stage.", "Rain."],
                         ["Nobody is playing a guitar.", "The minister said the bridge stays closed."],
                         padding=True, return_tensors="np")
    return {k: np.asarray(enc[k], dtype=np.int64) for k in INPUT_NAMES if k in enc}


def _check_equal(model: OnnxNLIModel, base: NLIModel) -> None:
    """The fp32 export must reproduce torch's logits; a stale or foreign file fails here."""
    feeds = _probe(base)
    got = model._logits(feeds["input_ids"], feeds["attention_mask"], feeds.get("token_type_ids"))
    want = base._logits(feeds["input_ids"], feeds["attention_mask"], feeds.get("token_type_ids"))
    diff = float(np.abs(got - want).max())
    if diff > MAX_EXPORT_DIFF:
        raise _Damaged(f"logits differ from torch by {diff:.3g}")


def _tmp_beside(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".onnx.tmp", dir=path.parent)
    os.close(fd)
    return Path(name)


def _export(base: NLIModel, path: Path) -> None:
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).logits

    feeds = _probe(base)
    if "token_type_ids" not in feeds:
        feeds["token_type_ids"] = np.zeros_like(feeds["input_ids"])
    args = tuple(torch.from_numpy(feeds[k]) for k in INPUT_NAMES)
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES} | {"logits": {0: "batch"}}
    tmp = _tmp_beside(path)
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings on Python-side shape checks; output is checked after
            torch.onnx.export(LogitsOnly(base.model).eval(), args, str(tmp), input_names=list(INPUT_NAMES),
                              output_names=["logits"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
        os.replace(tmp, path)
    except OSError as exc:
        raise ClaimmatchError(f"cannot write the ONNX export to {path} ({exc.strerror or exc}); "
                              "free space there or set cache_dir") from None
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(fp32: Path, path: Path) -> None:
    """Dynamic int8 weights for MatMul, per output channel (the embeddings stay fp32: measured more accurate)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp = _tmp_beside(path)
    logging.disable(logging.WARNING)  # its "consider pre-processing" advice is for image models
    try:
        quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        os.replace(tmp, path)
    except OSError as exc:
        raise ClaimmatchError(f"cannot write the int8 ONNX model to {path} ({exc.strerror or exc})") from None
    finally:
        logging.disable(logging.NOTSET)
        tmp.unlink(missing_ok=True)
