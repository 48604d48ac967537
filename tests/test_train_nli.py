"""A two-step run of scripts/train_nli.py: the export loads, the metadata is complete, resume works."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from claimmatch.nli import LABELS, WEIGHTS_FILE, load_model

from .conftest import load_script

SUBJECTS = ["A man", "A woman", "A child", "An old man", "A girl", "A boy", "A chef", "A farmer"]


def _write_rows(path: Path, subjects: list[str]) -> None:
    rows = []
    for s in subjects:
        rows += [
            {"premise": f"{s} is playing a guitar on stage.", "hypothesis": f"{s} is playing an instrument.",
             "label": "entailment", "source": "SICK"},
            {"premise": f"{s} is cooking dinner.", "hypothesis": f"{s} is cooking for a party.",
             "label": "neutral", "source": "fixture"},
            {"premise": f"{s} is running in the park.", "hypothesis": f"{s} is sitting still at home.",
             "label": "contradiction", "source": "fixture"},
        ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.mark.slow
def test_tiny_training_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = load_script("train_nli")
    train_file, dev_file = tmp_path / "train.jsonl", tmp_path / "dev.jsonl"
    _write_rows(train_file, SUBJECTS)  # 24 rows
    _write_rows(dev_file, ["A teacher", "A nurse"])
    work, out = tmp_path / "work", tmp_path / "model"
    argv = ["--train-file", str(train_file), "--dev-file", str(dev_file), "--max-steps", "2",
            "--batch-size", "8", "--work-dir", str(work), "--out", str(out)]

    # A time box that runs out after the first step: checkpointed and exported, not finished.
    assert train.main([*argv, "--max-minutes", "0.0001"]) == 0
    meta = json.loads((work / "training.json").read_text())
    assert (meta["steps"], meta["finished"]) == (1, False)

    capsys.readouterr()
    assert train.main(argv) == 0
    assert "at step 1/2" in capsys.readouterr().err  # resumed, not restarted
    meta = json.loads((out / "training.json").read_text())
    assert (meta["steps"], meta["total_steps"], meta["finished"]) == (2, 2, True)

    assert train.main(argv) == 0  # a finished run stays finished
    assert "at step 2/2" in capsys.readouterr().err
    assert json.loads((out / "training.json").read_text())["steps"] == 2

    assert meta["train_sha256"] == hashlib.sha256(train_file.read_bytes()).hexdigest()
    assert meta["train_rows"] == 24
    assert meta["train_examples_per_epoch"] == 24 + 8  # symmetric contradiction pairs
    assert meta["labels"] == list(LABELS)
    assert meta["dev_file"] == "dev.jsonl" and 0.0 <= meta["dev_accuracy"] <= 1.0
    hp = meta["hparams"]
    assert hp["train_file"] == str(train_file)
    assert (hp["batch_size"], hp["max_steps"], hp["seed"], hp["max_length"]) == (8, 2, 42, 128)
    assert (hp["lr"], hp["label_smoothing"], hp["warmup_ratio"]) == (5e-5, 0.05, 0.06)
    assert hp["symmetric_contradiction"] is True

    from safetensors import safe_open

    with safe_open(str(out / WEIGHTS_FILE), framework="pt") as fh:
        names = fh.keys()
        assert {str(fh.get_slice(k).get_dtype()) for k in names} == {"F16"}

    model = load_model(out)
    pairs = [("A man is playing a guitar.", "Nobody is playing a guitar."), ("Rain.", "It is wet."),
             ("A dog runs in the park.", "An animal is outside.")]
    probs = model.predict(pairs)
    assert probs.shape == (3, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_resume_can_shorten_schedule_and_logs_curve(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A time-boxed run resumed with --end-at-step ends there with the learning rate decayed to zero."""
    train = load_script("train_nli")
    train_file, dev_file = tmp_path / "train.jsonl", tmp_path / "dev.jsonl"
    _write_rows(train_file, SUBJECTS)
    _write_rows(dev_file, ["A teacher"])
    work = tmp_path / "work"
    argv = ["--train-file", str(train_file), "--dev-file", str(dev_file), "--max-steps", "6", "--batch-size", "4",
            "--work-dir", str(work), "--bf16", "--curve-every", "1", "--curve-dev", str(dev_file)]
    assert train.main([*argv, "--max-minutes", "0.0001"]) == 0
    assert json.loads((work / "training.json").read_text())["steps"] == 1

    capsys.readouterr()
    assert train.main([*argv, "--end-at-step", "3"]) == 0
    err = capsys.readouterr().err
    assert "at step 1/6" in err
    meta = json.loads((work / "training.json").read_text())
    assert (meta["steps"], meta["total_steps"], meta["finished"]) == (3, 3, True)
    import torch

    state = torch.load(work / "checkpoint.pt", weights_only=False)
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(0.0, abs=1e-12)
    points = [json.loads(line) for line in (work / "curve.jsonl").read_text().splitlines()]
    assert [p["step"] for p in points] == [1, 2, 3]
    assert all(0.0 <= p["dev.jsonl"] <= 1.0 for p in points)
