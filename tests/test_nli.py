"""The shipped NLI model loads offline, returns well-formed probabilities and gets plain cases right."""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from claimmatch.errors import ClaimmatchError
from claimmatch.nli import (
    LABELS,
    MODEL_DIR,
    WEIGHTS_FILE,
    NLIModel,
    clear_cache,
    fix_mmap_threshold,
    load_model,
    predict_both_directions,
    score_file,
)

# Pairs whose label no reader would dispute; a model that misses one of these is not shippable.
PLAIN_CASES = [
    ("A man is playing a guitar.", "Nobody is playing a guitar.", "contradiction"),
    ("The woman is slicing a tomato.", "The woman is not slicing a tomato.", "contradiction"),
    ("A man is playing a guitar on stage.", "A man is playing an instrument.", "entailment"),
    ("Two children are playing football in the park.", "Children are playing outdoors.", "entailment"),
    ("A man is playing a guitar.", "The man is a famous musician.", "neutral"),
]
UNRELATED = ("A man is playing a guitar.", "The central bank raised interest rates on Tuesday.")

VARIED_LENGTHS = [
    ("Rain.", "It is wet."),
    ("The government announced on Monday that it would raise the minimum wage by ten percent from "
     "January, a move unions welcomed but employers' groups said would cost jobs in small firms.",
     "The minimum wage will rise."),
    ("A dog runs.", "An animal moves."),
    ("Officials said the bridge, which carries about 40,000 vehicles a day, will stay closed for "
     "inspections until at least the end of the month.", "The bridge is open."),
    ("Prices rose.", "Prices fell."),
    ("The company reported a loss.", "The company made a profit."),
    ("She won the election by a wide margin after a long campaign.", "She lost the election."),
    ("Two men are fishing.", "Two men are outside."),
    ("Nobody came.", "Everyone came."),
]


@pytest.fixture(scope="module")
def model() -> NLIModel:
    return load_model()


def _copy_without_weights(tmp_path: Path) -> Path:
    folder = tmp_path / "nli"
    shutil.copytree(MODEL_DIR, folder, ignore=shutil.ignore_patterns(WEIGHTS_FILE))
    return folder


@pytest.mark.slow
def test_shipped_model_loads_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args, **kwargs):
        raise AssertionError("load_model tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    clear_cache()
    nli = load_model()
    assert nli.path == MODEL_DIR
    assert nli.labels == LABELS
    assert nli.weights_sha256 == hashlib.sha256((MODEL_DIR / WEIGHTS_FILE).read_bytes()).hexdigest()
    assert nli.name.startswith("claimmatch-nli-minilm-l6-")
    assert nli.weights_sha256[:12] in nli.name
    assert json.loads((MODEL_DIR / "training.json").read_text())["labels"] == list(LABELS)


@pytest.mark.slow
def test_load_is_cached_until_cleared() -> None:
    first = load_model()
    assert load_model() is first
    clear_cache()
    assert load_model() is not first


@pytest.mark.slow
def test_probabilities_are_normalised(model: NLIModel) -> None:
    probs = model.predict(VARIED_LENGTHS)
    assert probs.shape == (len(VARIED_LENGTHS), 3)
    assert probs.dtype == np.float32
    assert np.all(probs >= 0) and np.all(probs <= 1)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_empty_input(model: NLIModel) -> None:
    probs = model.predict([])
    assert probs.shape == (0, 3)
    assert probs.dtype == np.float32


@pytest.mark.slow
@pytest.mark.parametrize(("premise", "hypothesis", "expected"), PLAIN_CASES)
def test_plain_cases(model: NLIModel, premise: str, hypothesis: str, expected: str) -> None:
    probs = model.predict([(premise, hypothesis)])[0]
    assert LABELS[int(probs.argmax())] == expected, dict(zip(LABELS, probs.round(3).tolist(), strict=True))


@pytest.mark.slow
def test_unrelated_pair_is_neutral(model: NLIModel) -> None:
    probs = model.predict([UNRELATED])[0]
    assert LABELS[int(probs.argmax())] == "neutral", dict(zip(LABELS, probs.round(3).tolist(), strict=True))


@pytest.mark.slow
def test_order_survives_length_sorted_batching(model: NLIModel) -> None:
    batched = model.predict(VARIED_LENGTHS, batch_size=4)
    one_by_one = np.vstack([model.predict([pair]) for pair in VARIED_LENGTHS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-4)
    reversed_input = model.predict(VARIED_LENGTHS[::-1], batch_size=3)[::-1]
    np.testing.assert_allclose(reversed_input, batched, atol=1e-4)


@pytest.mark.slow
def test_truncates_long_input(model: NLIModel) -> None:
    long_premise = "The council met again to discuss the budget. " * 200
    probs = model.predict([(long_premise, "The council met.")])
    assert probs.shape == (1, 3)
    assert np.isfinite(probs).all()


@pytest.mark.slow
def test_predict_both_directions(model: NLIModel) -> None:
    pairs = [(p, h) for p, h, _ in PLAIN_CASES]
    forward, backward = predict_both_directions(model, pairs)
    np.testing.assert_allclose(forward, model.predict(pairs), atol=1e-4)
    np.testing.assert_allclose(backward, model.predict([(h, p) for p, h in pairs]), atol=1e-4)
    assert LABELS[int(backward[0].argmax())] == "contradiction"  # "Nobody is playing" vs "A man is playing"


@pytest.mark.slow
def test_score_file(model: NLIModel, tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    rows = [{"premise": p, "hypothesis": h, "label": label} for p, h, label in PLAIN_CASES[:3]]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    scored = score_file(path, model)
    assert len(scored) == 3
    for row, src in zip(scored, rows, strict=True):
        assert row["premise"] == src["premise"]
        assert row["gold_label"] == src["label"]
        assert row["label"] in LABELS
        assert sum(row[name] for name in LABELS) == pytest.approx(1.0, abs=1e-5)
        assert row["label"] == max(LABELS, key=lambda name: row[name])


class _NoInference:
    def predict(self, pairs, batch_size=64):
        raise AssertionError("a malformed file must be rejected before any inference")


@pytest.mark.parametrize(("bad_line", "reason"), [
    ('{"premise": "A man sleeps.", ', "not valid JSON"),
    ('{"premise": "A man sleeps."}', "'hypothesis'"),
    ('["A man sleeps.", "A man rests."]', "JSON object"),
    ('{"premise": "A man sleeps.", "hypothesis": 3}', "'hypothesis'"),
])
def test_score_file_names_file_and_line(tmp_path: Path, bad_line: str, reason: str) -> None:
    path = tmp_path / "pairs.jsonl"
    good = json.dumps({"premise": "A man sleeps.", "hypothesis": "A man rests."})
    path.write_text(f"{good}\n\n{bad_line}\n{good}\n", encoding="utf-8")
    with pytest.raises(ClaimmatchError) as err:
        score_file(path, _NoInference())  # type: ignore[arg-type]
    assert f"{path}:3" in str(err.value)
    assert reason in str(err.value)


def test_score_file_missing(tmp_path: Path) -> None:
    path = tmp_path / "absent.jsonl"
    with pytest.raises(ClaimmatchError, match="absent.jsonl"):
        score_file(path, _NoInference())  # type: ignore[arg-type]


def test_missing_folder_names_path(tmp_path: Path) -> None:
    folder = tmp_path / "no-such-model"
    with pytest.raises(ClaimmatchError) as err:
        load_model(folder)
    assert str(folder) in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_weight_file_names_path(tmp_path: Path) -> None:
    folder = _copy_without_weights(tmp_path)
    with pytest.raises(ClaimmatchError) as err:
        load_model(folder)
    assert str(folder / WEIGHTS_FILE) in str(err.value)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_weight_file_names_path(tmp_path: Path, damage: str) -> None:
    folder = _copy_without_weights(tmp_path)
    weights = folder / WEIGHTS_FILE
    original = (MODEL_DIR / WEIGHTS_FILE).read_bytes()
    damaged = {"garbage": b"not a safetensors file" * 100, "truncated": original[:len(original) // 2],
               "empty": b""}
    weights.write_bytes(damaged[damage])
    with pytest.raises(ClaimmatchError) as err:
        load_model(folder)
    assert str(weights) in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_wrong_label_order_is_refused(tmp_path: Path) -> None:
    folder = _copy_without_weights(tmp_path)
    shutil.copy2(MODEL_DIR / WEIGHTS_FILE, folder / WEIGHTS_FILE)
    config = json.loads((folder / "config.json").read_text())
    config["id2label"] = {"0": "contradiction", "1": "neutral", "2": "entailment"}
    config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ClaimmatchError, match="expected"):
        load_model(folder)


def test_mmap_threshold_is_pinned_on_glibc_only(monkeypatch: pytest.MonkeyPatch) -> None:
    import platform

    if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
        assert fix_mmap_threshold() is True
    monkeypatch.setattr(platform, "system", lambda: "Darwin")
    assert fix_mmap_threshold() is False
