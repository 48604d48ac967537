"""Precision variants of the shipped NLI model load, agree with fp32, and the ONNX export is cached safely."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from claimmatch.config import NLI_PRECISIONS, load_settings
from claimmatch.errors import ClaimmatchError
from claimmatch.nli import clear_cache, load_model

CLEAR = [("A man is playing a guitar.", "Nobody is playing a guitar."),
         ("The woman is slicing a tomato.", "The woman is not slicing a tomato."),
         ("A man is playing a guitar on stage.", "A man is playing an instrument."),
         ("Two children are playing football in the park.", "Children are playing outdoors.")]


def test_unknown_precision_is_a_one_line_error() -> None:
    with pytest.raises(ClaimmatchError, match="unknown NLI precision 'fp8'"):
        load_model(precision="fp8")
    with pytest.raises(ClaimmatchError, match="nli_precision"):
        load_settings(environ={"CLAIMMATCH_NLI_PRECISION": "fp8"})
    with pytest.raises(ClaimmatchError, match="nli_engine"):
        load_settings(environ={"CLAIMMATCH_NLI_ENGINE": "spark"})
    assert load_settings(environ={"CLAIMMATCH_NLI_PRECISION": "onnx-int8"}).nli_precision == "onnx-int8"


@pytest.mark.slow
@pytest.mark.parametrize("precision", [p for p in NLI_PRECISIONS if p != "fp32"])
def test_variant_agrees_with_fp32(precision: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  caplog: pytest.LogCaptureFixture) -> None:
    from claimmatch import nli

    fp32 = load_model()
    if precision == "bf16":
        with monkeypatch.context() as m, caplog.at_level(logging.WARNING):
            m.setattr(nli, "cpu_has_bf16", lambda: False)
            assert load_model(precision="bf16", cache_dir=tmp_path / "old-cpu") is fp32  # emulated bf16 is slow
        assert len(caplog.records) == 1 and "no bf16 instructions" in caplog.records[0].getMessage()
        if not nli.cpu_has_bf16():
            return
    model = load_model(precision=precision, cache_dir=tmp_path)
    assert model.name == f"{fp32.name}-{precision}" and model.weights_sha256 == fp32.weights_sha256
    want, got = fp32.predict(CLEAR), model.predict(CLEAR)
    assert np.allclose(got.sum(axis=1), 1.0, atol=1e-4)
    assert (got.argmax(1) == want.argmax(1)).all()
    assert np.abs(got - want).max() < {"onnx": 1e-4, "bf16": 0.05}.get(precision, 0.2)
    if precision.startswith("onnx"):
        files = sorted(p.name for p in (tmp_path / "nli-onnx").rglob("*.onnx"))
        assert files == (["model-int8.onnx", "model.onnx"] if precision == "onnx-int8" else ["model.onnx"])
        assert not list((tmp_path / "nli-onnx").rglob("*.tmp"))  # written atomically


@pytest.mark.slow
def test_onnx_export_is_reused_and_a_damaged_one_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = load_model(precision="onnx", cache_dir=tmp_path)
    file = first.file
    stamp = file.stat().st_mtime_ns
    clear_cache()
    second = load_model(precision="onnx", cache_dir=tmp_path)
    assert second is not first and file.stat().st_mtime_ns == stamp  # loaded, not exported again
    clear_cache()
    file.write_bytes(b"\x00garbage" * 64)
    with caplog.at_level(logging.WARNING):
        third = load_model(precision="onnx", cache_dir=tmp_path)
    assert len(caplog.records) == 1 and "damaged" in caplog.records[0].getMessage()
    assert np.allclose(third.predict(CLEAR[:2]), first.predict(CLEAR[:2]), atol=1e-5)


class _WordTokenizer:
    """One token per word (plus 3 specials), enough to drive NLIModel's batching without the real model."""

    pad_token_id = 0

    def __call__(self, premises, hypotheses, truncation=True, max_length=256):
        ids = [[1] * min(max_length, len(p.split()) + len(h.split()) + 3)
               for p, h in zip(premises, hypotheses, strict=True)]
        return {"input_ids": ids}


def test_long_pairs_go_in_smaller_batches() -> None:
    from claimmatch.nli import NLIModel

    shapes: list[tuple[int, int]] = []

    class Recording(NLIModel):
        def _logits(self, input_ids, mask, token_types):
            shapes.append(input_ids.shape)
            return mask.sum(axis=1, keepdims=True).astype(np.float32) * np.array([[0.0, 0.01, 0.02]])

    model = Recording(None, _WordTokenizer(), Path("."), "0" * 64, max_batch_cost=8 * 20 * 20)
    pairs = [("w " * n, "h") for n in [3, 200, 5, 60, 17, 200, 2] * 10]
    probs = model.predict(pairs, batch_size=8)
    assert sum(b for b, _ in shapes) == len(pairs)
    assert all(b * w * w <= 8 * 20 * 20 or b == 1 for b, w in shapes)  # pairs × tokens² bounded
    assert max(b for b, _ in shapes) == 8 and min(b for b, _ in shapes) == 1
    widths = [w for _, w in shapes]
    assert widths == sorted(widths, reverse=True)  # length-sorted: little padding
    expected = np.array([[0.0, 0.01, 0.02]]) * np.array([[min(256, n + 4)] for n, _ in
                                                          [(len(p.split()), h) for p, h in pairs]])
    e = np.exp(expected - expected.max(axis=1, keepdims=True))
    assert np.allclose(probs, e / e.sum(axis=1, keepdims=True), atol=1e-6)  # rows back in input order
