"""Command-line interface: thin typer wrappers over plain functions in the stage modules."""

from __future__ import annotations

import functools
import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from claimmatch import __version__
from claimmatch.config import load_settings
from claimmatch.errors import ClaimmatchError

app = typer.Typer(
    name="claimmatch",
    help="Find the claims news outlets share and the claims on which they disagree.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="Settings file (default: ./claimmatch.toml).")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"claimmatch {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                               help="Show the version and exit.")] = False) -> None:
    """claimmatch: near-duplicate claims and contradictions across news outlets."""
    logging.basicConfig(level=logging.WARNING, format="warning: %(message)s", stream=sys.stderr)
    for noisy in ("transformers", "sentence_transformers", "huggingface_hub", "faiss"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def user_errors(fn):
    """Turn a user mistake into one line on stderr and exit code 2: never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ClaimmatchError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("interrupted; earlier outputs are unchanged", err=True)
            raise typer.Exit(130) from None

    return wrapper


def _report_written(result) -> None:
    """Counts on stderr; where the reports are on stdout (what a script would capture)."""
    c = result.info["counts"]
    summary = f"{c['documents']} documents, {c['claims']} claims, {c['clusters']} clusters " \
              f"({c['cross_outlet_clusters']} across outlets)"
    if "contradiction_pairs" in c:
        summary += f", {c['contradiction_pairs']} contradictions in {c['contradiction_topics']} topics"
    typer.echo(summary, err=True)
    typer.echo(f"reports written to {result.out_dir}/")
    for path in result.files:
        typer.echo(f"  {path}")


@app.command("run")
@user_errors
def run_cli(
    inputs: Annotated[list[Path] | None, typer.Argument(help="Article files or folders.", show_default=False)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the reports.")] = Path("out"),
    threshold: Annotated[float | None, typer.Option(help="Same-claim cosine threshold.")] = None,
    index: Annotated[str | None, typer.Option(help="Also save the FAISS index as indexes/NAME.")] = None,
    outlets: Annotated[Path | None, typer.Option(help="CSV mapping doc_id to outlet for text folders.")] = None,
    no_nli: Annotated[bool, typer.Option("--no-nli", help="Cosine-only clustering; no contradiction step.")] = False,
    within_outlet: Annotated[bool, typer.Option("--within-outlet",
                                                help="Also look for an outlet contradicting itself.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat unreadable or binary files as errors.")] = False,
    skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Skip malformed JSONL/CSV rows instead of stopping.")] = False,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Cluster claims across outlets and write the reports.

    Example: claimmatch run seeds/ --out out/seeds
    """
    from claimmatch.pipeline import run

    settings = load_settings(config, {
        "threshold": threshold, "quiet": quiet or None, "strict": strict or None,
        "skip_bad_rows": skip_bad_rows or None, "use_nli": False if no_nli else None,
        "within_outlet": within_outlet or None})
    result = run(inputs or [], out, settings, index=index, outlets=outlets)
    _report_written(result)


@app.command("contradictions")
@user_errors
def contradictions_cli(
    index: Annotated[str, typer.Option(help="Name (under indexes/) or path of an existing index.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the reports.")] = Path("out"),
    threshold: Annotated[float | None, typer.Option(help="Same-claim cosine threshold.")] = None,
    contradiction_threshold: Annotated[float | None, typer.Option(help="Flag pairs with p(contradiction) above this.")] = None,
    within_outlet: Annotated[bool, typer.Option("--within-outlet", help="Also look for an outlet contradicting itself.")] = False,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Flag contradictions between the claims of an existing index (Markdown and Parquet reports).

    Example: claimmatch contradictions --index seeds --out out/seeds-contradictions
    """
    from claimmatch.pipeline import contradictions

    settings = load_settings(config, {
        "threshold": threshold, "contradiction_threshold": contradiction_threshold, "quiet": quiet or None,
        "within_outlet": within_outlet or None, "use_nli": True})
    result = contradictions(index, out, settings)
    _report_written(result)


@app.command("nli")
@user_errors
def nli_cli(
    premise: Annotated[str | None, typer.Argument(help="Premise sentence.", show_default=False)] = None,
    hypothesis: Annotated[str | None, typer.Argument(help="Hypothesis sentence.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", help="JSONL of {premise, hypothesis} rows.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score premise/hypothesis pairs with the shipped NLI model.

    Examples: claimmatch nli "A man plays a guitar." "Nobody plays a guitar."
              claimmatch nli --file pairs.jsonl
    """
    from claimmatch import nli

    if file is None and (premise is None or hypothesis is None):
        raise ClaimmatchError("give PREMISE and HYPOTHESIS, or --file pairs.jsonl")
    model = nli.load_model()
    if file is not None:
        for row in nli.score_file(file, model):
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    probs = model.predict([(premise, hypothesis)])[0]
    scores = {label: round(float(p), 4) for label, p in zip(model.labels, probs, strict=True)}
    label = model.labels[int(probs.argmax())]
    if as_json:
        typer.echo(json.dumps({"label": label, **scores}))
    else:
        typer.echo(f"{label}  " + "  ".join(f"{k}={v:.4f}" for k, v in scores.items()))


if __name__ == "__main__":
    app()
