"""CLI behaviour with the fake embedder: outputs, errors, determinism, documentation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from claimmatch import pipeline
from claimmatch.cli import app

from .conftest import ROOT, FakeEmbedder

runner = CliRunner()


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setattr(pipeline, "default_embedder", lambda settings: FakeEmbedder())
    monkeypatch.setenv("CLAIMMATCH_USE_NLI", "false")


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_version():
    res = invoke("--version")
    assert res.exit_code == 0 and re.match(r"claimmatch \d+\.\d+", res.stdout)


def test_run_writes_the_output_contract(articles: Path, tmp_path: Path):
    out = tmp_path / "out"
    res = invoke("run", articles, "--out", out, "--quiet")
    assert res.exit_code == 0, res.output
    assert f"reports written to {out}" in res.stdout
    claims = pl.read_parquet(out / "claims.parquet")
    for col, dtype in {"claim_id": pl.String, "doc_id": pl.String, "outlet": pl.String, "text": pl.String,
                       "char_start": pl.Int64, "char_end": pl.Int64, "cluster_id": pl.Int64}.items():
        assert claims.schema[col] == dtype, col
    assert {"title", "speaker"} <= set(claims.columns)
    assert claims["cluster_id"].null_count() == 0
    clusters = pl.read_parquet(out / "clusters.parquet")
    assert {"cluster_id", "size", "n_outlets", "outlets", "representative_claim_id", "representative_text",
            "cohesion"} <= set(clusters.columns)
    # The sentence that alpha and beta both carry holds two atomic claims: two cross-outlet clusters, first.
    top = clusters.head(2).to_dicts()
    assert all(c["n_outlets"] == 2 and sorted(c["outlets"]) == ["alpha", "beta"] for c in top)
    assert sorted(c["representative_text"] for c in top) == ["A storm damaged the pier.",
                                                             "The harbour of Portville was closed on Monday."]
    info = json.loads((out / "run.json").read_text())
    assert info["counts"]["documents"] == 3 and info["counts"]["claims"] == len(claims)
    assert info["counts"]["documents_without_claims"] == 0 and info["documents_without_claims"] == []
    assert set(info["extractor"]) == {"name", "version", "weights_sha256"}
    assert set(info["timings_s"]) >= {"ingest", "clean", "claims", "embed", "cluster"}
    md = (out / "clusters.md").read_text()
    assert "## Clusters across outlets" in md and "**alpha**" in md and "**beta**" in md
    # Members quote the whole sentence with their proposition marked.
    assert "“The harbour of Portville was closed on Monday after **a storm damaged the pier**.”" in md


def test_documents_without_claims_are_counted_named_and_warned(tmp_path: Path, caplog):
    table = tmp_path / "rows.jsonl"
    table.write_text('{"claim": "The harbour of Portville was closed on Monday."}\n{"claim": "2016"}\n'
                     '{"claim": "Portville harbour was closed on Monday"}\n', encoding="utf-8")
    res = invoke("run", table, "--out", tmp_path / "out", "--quiet")
    assert res.exit_code == 0, res.output
    info = json.loads((tmp_path / "out" / "run.json").read_text())
    assert info["counts"]["documents_without_claims"] == 1 and info["documents_without_claims"] == ["rows:2"]
    warned = [r.getMessage() for r in caplog.records if "gave no claim" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith("1 of 3 documents gave no claim")


def test_runs_are_byte_identical(articles: Path, tmp_path: Path):
    for name in ("a", "b"):
        assert invoke("run", articles, "--out", tmp_path / name, "-q").exit_code == 0
    for f in ("claims.parquet", "clusters.parquet", "clusters.md"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f


def test_index_option_saves_an_index(articles: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CLAIMMATCH_INDEX_DIR", str(tmp_path / "indexes"))
    assert invoke("run", articles, "--out", tmp_path / "o", "--index", "harbour", "-q").exit_code == 0
    manifest = json.loads((tmp_path / "indexes" / "harbour" / "manifest.json").read_text())
    assert manifest["model"] == "fake-bow-256" and manifest["count"] > 0


@pytest.mark.parametrize("make_args, needle", [
    (lambda tmp: ["run", "--out", tmp / "o"], "no input given"),
    (lambda tmp: ["run", tmp / "empty", "--out", tmp / "o"], "no article files found"),
    (lambda tmp: ["run", tmp / "nope", "--out", tmp / "o"], "no such file or folder"),
])
def test_user_mistakes_are_one_line_errors(tmp_path: Path, make_args, needle):
    (tmp_path / "empty").mkdir()
    res = invoke(*make_args(tmp_path))
    assert res.exit_code == 2
    assert needle in res.stderr and res.stderr.count("\n") == 1 and "Traceback" not in res.output


def test_failed_run_leaves_earlier_outputs_intact(articles: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert invoke("run", articles, "--out", out, "-q").exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "rows.jsonl").write_text('{"id": "1", "text": "fine"}\nnot json\n', encoding="utf-8")
    res = invoke("run", bad, "--out", out, "-q")
    assert res.exit_code == 2 and "rows.jsonl:2" in res.stderr and "--skip-bad-rows" in res.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_bad_config_file_is_reported(articles: Path, tmp_path: Path):
    cfg = tmp_path / "claimmatch.toml"
    cfg.write_text("treshold = 0.5\n")
    res = invoke("run", articles, "--out", tmp_path / "o", "--config", cfg)
    assert res.exit_code == 2 and "unknown setting 'treshold'" in res.stderr


def test_missing_nli_model_folder_is_a_one_line_error(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CLAIMMATCH_NLI_MODEL", str(tmp_path / "my-nli"))
    res = invoke("nli", "A man plays.", "Nobody plays.")
    assert res.exit_code == 2 and "my-nli not found" in res.stderr and res.stderr.count("\n") == 1


def _commands(group=None, prefix: str = "") -> list[str]:
    import typer.main

    click_group = group or typer.main.get_command(app)
    names = []
    for name, cmd in click_group.commands.items():
        if hasattr(cmd, "commands"):
            names += _commands(cmd, f"{prefix}{name} ")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_cli_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = _commands()
    assert "run" in commands
    missing = [c for c in commands if f"claimmatch {c}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_readme_quickstart_has_exactly_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quickstart")[1].split("\n## ")[0]
    commands = re.findall(r"```bash\n(.*?)\n```", quick, flags=re.S)
    assert len(commands) == 2
    assert "claimmatch run seeds/ --out out/seeds" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1].strip() in ci
