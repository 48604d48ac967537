"""scripts/build_same_claim_nli.py: same-claim pairs become NLI rows from train splits only, never the held-out
calibration quarter, and the replayed mix cannot leak MRPC/STS-B rows back in."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from benchmarks.data import calibration_holdout

from .conftest import load_script


def _tsv(path: Path, header: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)


def _data(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "paraphrase").mkdir(parents=True)
    (data / "pairs").mkdir()
    mrpc = []
    for k in range(40):
        a, b = f"Shares of firm {k} rose 3 percent on Monday.", f"Firm {k} shares gained 3 percent Monday in heavy trading."
        mrpc.append({"split": "train", "label": str(k % 2), "sentence1": a, "sentence2": b})
    mrpc.append({"split": "test", "label": "1", "sentence1": "Test one rose.", "sentence2": "Test one went up today."})
    _tsv(data / "paraphrase" / "mrpc.tsv", ["split", "label", "sentence1", "sentence2"], mrpc)
    sts = [{"split": "train", "score": "4.5", "sentence1": "A plane takes off.", "sentence2": "An air plane is taking off."},
           {"split": "train", "score": "1.0", "sentence1": "A man sings.", "sentence2": "A cat sleeps."},
           {"split": "dev", "score": "5.0", "sentence1": "Dev pair.", "sentence2": "Dev pair again."}]
    _tsv(data / "paraphrase" / "stsb.tsv", ["split", "score", "sentence1", "sentence2"], sts)
    kpa = [{"text_a": "arg one", "text_b": "kp one", "label": "1", "split": "train"},
           {"text_a": "arg two", "text_b": "kp two", "label": "0", "split": "train"},
           {"text_a": "arg test", "text_b": "kp test", "label": "1", "split": "test"}]
    clef = [{"text_a": "tweet", "text_b": "claim", "label": "1", "split": "train"},
            {"text_a": "tweet x", "text_b": "claim y", "label": "0_sampled_random", "split": "train"},
            {"text_a": "tweet dev", "text_b": "claim dev", "label": "1", "split": "dev"}]
    for name, rows in (("kpa2021", kpa), ("clef2020_t2", clef)):
        (data / "pairs" / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return data


def test_rows_come_from_train_splits_outside_the_holdout(tmp_path: Path) -> None:
    data = _data(tmp_path)
    replay = tmp_path / "mix.jsonl"
    replay.write_text(json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral", "source": "SICK"}) + "\n"
                      + json.dumps({"premise": "Test one rose.", "hypothesis": "x", "label": "neutral",
                                    "source": "MRPC-train"}) + "\n", encoding="utf-8")
    out = tmp_path / "v6.jsonl"
    assert load_script("build_same_claim_nli").main(["--data-dir", str(data), "--replay", str(replay), "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    texts = {t for r in rows for t in (r["premise"], r["hypothesis"])}
    assert not texts & {"Test one rose.", "Dev pair.", "arg test", "tweet dev", "A man sings."}
    mrpc = [r for r in rows if r["source"] == "MRPC-train"]
    as_in_file = [sorted((r["premise"], r["hypothesis"]), key=lambda t: not t.startswith("Shares")) for r in mrpc]
    assert mrpc and not any(calibration_holdout(a, b) for a, b in as_in_file)
    assert len({a for a, _ in as_in_file}) < 40  # the holdout quarter is missing
    # a paraphrase is entailment both ways; a non-paraphrase is neutral from the shorter to the longer sentence
    assert {r["label"] for r in mrpc} == {"entailment", "neutral"}
    for r in mrpc:
        if r["label"] == "neutral":
            assert len(r["premise"].split()) < len(r["hypothesis"].split())
    pos = {(r["premise"], r["hypothesis"]) for r in mrpc if r["label"] == "entailment"}
    assert all((b, a) in pos for a, b in pos)
    assert {(r["premise"], r["label"]) for r in rows if r["source"] == "KPA-train"} == {("arg one", "entailment"),
                                                                                        ("arg two", "neutral")}
    assert sum(r["source"] == "SICK" for r in rows) == 1  # replay kept, its MRPC row dropped


def test_missing_data_is_one_line(tmp_path: Path, capsys) -> None:
    assert load_script("build_same_claim_nli").main(["--data-dir", str(tmp_path), "--replay", str(tmp_path / "x.jsonl")]) == 2
    assert "not found" in capsys.readouterr().err


def test_anli_rounds_never_include_round_one(tmp_path: Path, capsys) -> None:
    data = _data(tmp_path)
    (data / "nli" / "eval").mkdir(parents=True)
    r1 = {"premise": "Shared premise.", "hypothesis": "h1", "label": "neutral"}
    r2 = [{"premise": "Shared premise.", "hypothesis": "h2", "label": "entailment"},
          {"premise": "Other premise.", "hypothesis": "h3", "label": "contradiction"}]
    (data / "nli" / "eval" / "anli_dev_r1.jsonl").write_text(json.dumps(r1) + "\n", encoding="utf-8")
    (data / "nli" / "eval" / "anli_dev_r2.jsonl").write_text("".join(json.dumps(r) + "\n" for r in r2),
                                                             encoding="utf-8")
    replay = tmp_path / "mix.jsonl"
    replay.write_text(json.dumps({"premise": "p", "hypothesis": "h", "label": "neutral", "source": "SICK"}) + "\n",
                      encoding="utf-8")
    out = tmp_path / "v7.jsonl"
    args = ["--data-dir", str(data), "--replay", str(replay), "--out", str(out), "--no-same-claim"]
    assert load_script("build_same_claim_nli").main([*args, "--anli-dev", "r1,r2"]) == 2
    assert "round 1" in capsys.readouterr().err and not out.exists()
    assert load_script("build_same_claim_nli").main([*args, "--anli-dev", "r2", "--anli-repeat", "2"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    anli = [r for r in rows if r["source"] == "ANLI-R2-dev"]
    assert [r["hypothesis"] for r in anli] == ["h3", "h3"]  # the row on a round-1 premise is dropped
    assert len(rows) == 3
