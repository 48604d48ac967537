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
NLIEngineOpt = Annotated[str | None, typer.Option(
    "--engine", help="Where NLI pairs are scored: local (in-process) or ray (address from $RAY_ADDRESS).")]


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
    engine: NLIEngineOpt = None,
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
        "within_outlet": within_outlet or None, "nli_engine": engine})
    result = run(inputs or [], out, settings, index=index, outlets=outlets)
    _report_written(result)


@app.command("contradictions")
@user_errors
def contradictions_cli(
    index: Annotated[str, typer.Option(help="Name (under indexes/) or path of an existing index.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the reports.")] = Path("out"),
    threshold: Annotated[float | None, typer.Option(help="Same-claim cosine threshold.")] = None,
    contradiction_threshold: Annotated[float | None, typer.Option(
        help="Flag pairs whose p(contradiction), the lower of both directions, reaches this.")] = None,
    within_outlet: Annotated[bool, typer.Option("--within-outlet", help="Also look for an outlet contradicting itself.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Score every pair again instead of reusing the NLI scores "
                                                      "stored by the last run on this index.")] = False,
    engine: NLIEngineOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Flag contradictions between the claims of an existing index (Markdown and Parquet reports).

    Scores are kept in the index's contradictions/ folder: after `index add`, a rerun asks the NLI model
    only about pairs with the new claims and writes full reports, equal to a run from scratch.

    Example: claimmatch contradictions --index seeds --out out/seeds-contradictions
    """
    from claimmatch.pipeline import contradictions

    settings = load_settings(config, {
        "threshold": threshold, "contradiction_threshold": contradiction_threshold, "quiet": quiet or None,
        "within_outlet": within_outlet or None, "use_nli": True, "nli_engine": engine})
    result = contradictions(index, out, settings, full=full)
    _report_written(result)


@app.command("nli")
@user_errors
def nli_cli(
    premise: Annotated[str | None, typer.Argument(help="Premise sentence.", show_default=False)] = None,
    hypothesis: Annotated[str | None, typer.Argument(help="Hypothesis sentence.", show_default=False)] = None,
    file: Annotated[Path | None, typer.Option("--file", help="JSONL of {premise, hypothesis} rows.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    engine: NLIEngineOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Score premise/hypothesis pairs with the shipped NLI model (or the `nli_model` setting's folder).

    Scores go through the NLI result cache, so a file scored before is answered from the cache.

    Examples: claimmatch nli "A man plays a guitar." "Nobody plays a guitar."
              claimmatch nli --file pairs.jsonl --engine ray
    """
    from claimmatch import nli
    from claimmatch.scoring import load_scorer

    if file is None and (premise is None or hypothesis is None):
        raise ClaimmatchError("give PREMISE and HYPOTHESIS, or --file pairs.jsonl")
    settings = load_settings(config, {"quiet": quiet or None, "nli_engine": engine})
    if file is not None:
        nli.read_pairs(file)  # a bad row fails before the model loads
    scorer = load_scorer(settings)
    try:
        if file is not None:
            for row in nli.score_file(file, scorer, batch_size=settings.batch_size):
                typer.echo(json.dumps(row, ensure_ascii=False))
            return
        probs = scorer.predict([(premise, hypothesis)])[0]
    finally:
        scorer.close()
    scores = {label: round(float(p), 4) for label, p in zip(scorer.labels, probs, strict=True)}
    label = scorer.labels[int(probs.argmax())]
    if as_json:
        typer.echo(json.dumps({"label": label, **scores}))
    else:
        typer.echo(f"{label}  " + "  ".join(f"{k}={v:.4f}" for k, v in scores.items()))


# --- larger corpora: on-disk indexes (claimmatch/store/) ---------------------------------------

index_app = typer.Typer(name="index", no_args_is_help=True, rich_markup_mode=None,
                        help="Build and maintain on-disk claim indexes: streaming, incremental, resumable.")
app.add_typer(index_app, name="index")

IndexNameOpt = Annotated[str, typer.Option("--index", help="Index name (under indexes/) or path.")]
IndexTypeOpt = Annotated[str, typer.Option("--index-type", help="auto (flat, or ivf-sq8 above the measured "
                                           "break-even), flat, ivf-sq8, ivf-pq or hnsw.")]
EngineOpt = Annotated[str, typer.Option("--engine", help="local (in-process) or ray.")]
RayAddressOpt = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster address (default: "
                                                   "$RAY_ADDRESS, else a local Ray).")]
ChunkOpt = Annotated[int, typer.Option("--chunk-docs", help="Documents per committed chunk.")]
InputsArg = Annotated[list[Path] | None, typer.Argument(help="Article files or folders.", show_default=False)]


def _update_cli(mode: str, inputs, index, outlets, index_type, engine, ray_address, chunk_docs, strict,
                skip_bad_rows, quiet, config) -> None:
    from claimmatch.engines import get_engine
    from claimmatch.parser import extractor_info
    from claimmatch.store import update_index

    settings = load_settings(config, {"quiet": quiet or None, "strict": strict or None,
                                      "skip_bad_rows": skip_bad_rows or None})
    eng = get_engine(engine, ray_address)
    try:
        rep = update_index(inputs or [], index, settings, mode=mode, engine=eng, outlets=outlets,
                           index_type=index_type, chunk_docs=chunk_docs, extractor=extractor_info())
    finally:
        eng.close()
    m = rep.manifest
    typer.echo(f"{rep.documents_seen} documents: {rep.added} new, {rep.changed} changed, {rep.unchanged} unchanged"
               f"{f', {rep.removed} removed' if rep.removed else ''}; {rep.claims_added} claims added "
               f"({rep.embedded} embedded, {rep.from_cache} from cache)", err=True)
    typer.echo(f"index {rep.path}: {m['documents']} documents, {m['count']} claims, {m['index_type']} index")


def _update_command(mode: str, doc: str):
    """`index build` and `index add` take the same options and differ only in what they do to the index."""

    def command(
        index: IndexNameOpt,
        inputs: InputsArg = None,
        outlets: Annotated[Path | None, typer.Option(help="CSV mapping doc_id to outlet for text folders.")] = None,
        index_type: IndexTypeOpt = "auto",
        engine: EngineOpt = "local",
        ray_address: RayAddressOpt = None,
        chunk_docs: ChunkOpt = 1000,
        strict: Annotated[bool, typer.Option("--strict", help="Treat unreadable or binary files as errors.")] = False,
        skip_bad_rows: Annotated[bool, typer.Option("--skip-bad-rows", help="Skip malformed JSONL/CSV rows.")] = False,
        quiet: QuietOpt = False,
        config: ConfigOpt = None,
    ) -> None:
        _update_cli(mode, inputs, index, outlets, index_type, engine, ray_address, chunk_docs, strict,
                    skip_bad_rows, quiet, config)

    command.__doc__ = doc
    command.__name__ = f"index_{mode}_cli"
    return user_errors(command)


index_build_cli = index_app.command("build")(_update_command("build", """Index exactly these documents, streaming them in committed chunks.

    Rerunning the same command resumes an interrupted build, and re-indexes only new or changed
    documents (documents gone from the inputs are removed).

    Examples: claimmatch index build ../shared/data/news/reuters21578.jsonl --index reuters
              claimmatch index build archive/ --index archive --engine ray --ray-address auto
    """))
index_add_cli = index_app.command("add")(_update_command("add", """Add new and changed documents to an index (unchanged ones are skipped by content hash).

    Example: claimmatch index add today/ --index archive
    """))


@index_app.command("remove")
@user_errors
def index_remove_cli(
    doc_id: Annotated[list[str], typer.Option("--doc-id", help="Document id to remove (repeatable).")],
    index: IndexNameOpt,
    config: ConfigOpt = None,
) -> None:
    """Remove documents (and their claims) from an index.

    Example: claimmatch index remove --doc-id reuters-17 --doc-id reuters-18 --index reuters
    """
    from claimmatch.store import remove_documents

    rep = remove_documents(index, doc_id, load_settings(config))
    for warning in rep.ingest.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"removed {rep.removed} documents; index {rep.path}: {rep.manifest['documents']} documents, "
               f"{rep.manifest['count']} claims")


@index_app.command("info")
@user_errors
def index_info_cli(
    name: Annotated[str, typer.Argument(help="Index name (under indexes/) or path.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Show what an index holds: counts, outlets, model, index type, size on disk.

    Example: claimmatch index info reuters
    """
    from claimmatch.store import index_info

    info = index_info(name, load_settings(config))
    if as_json:
        typer.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    size = info["size_bytes"] / 2**20
    typer.echo(f"index      {info['index']} ({info['state']})")
    typer.echo(f"model      {info['model']} ({info['dimension']} dims, field '{info['embed_field']}')")
    nprobe = f", nprobe {info['nprobe']}" if info["nprobe"] else ""
    typer.echo(f"type       {info['index_type']} (requested {info['index_type_requested']}{nprobe})")
    typer.echo(f"contents   {info['documents']} documents, {info['claims']} claims, {info['outlets']} outlets")
    typer.echo(f"storage    {info['rows_stored']} rows ({info['removed_rows']} removed), {info['shards']} chunks, "
               f"{size:.1f} MiB on disk")
    typer.echo(f"updated    {info['updated']} (created {info['created']})")
    for row in info["top_outlets"]:
        typer.echo(f"  {row['outlet']}: {row['documents']} documents, {row['claims']} claims")


@index_app.command("verify")
@user_errors
def index_verify_cli(
    name: Annotated[str, typer.Argument(help="Index name (under indexes/) or path.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Check every file of an index (hashes, row counts, FAISS against vectors); exit 1 if anything is wrong.

    Example: claimmatch index verify reuters
    """
    from claimmatch.store import verify_index

    rep = verify_index(name, load_settings(config))
    if as_json:
        typer.echo(json.dumps(rep.as_dict(), indent=2, ensure_ascii=False))
    elif rep.sound:
        c = rep.checked
        typer.echo(f"index {rep.path}: sound (generation {rep.generation}: {c['files']} files, "
                   f"{c['bytes_hashed']} bytes hashed, {c['rows']} rows, {c['faiss_rows_compared']} FAISS rows "
                   "compared)")
    else:
        for problem in rep.problems:
            typer.echo(f"problem: {problem}")
        typer.echo(f"index {rep.path}: {len(rep.problems)} problems; rebuild the index or restore the named files "
                   "from a backup", err=True)
    if not rep.sound:
        raise typer.Exit(1)


@index_app.command("compact")
@user_errors
def index_compact_cli(
    name: Annotated[str, typer.Argument(help="Index name (under indexes/) or path.")],
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Rewrite an index without its removed rows (atomic: readers see the old or the new index, never a mix).

    Example: claimmatch index compact reuters
    """
    from claimmatch.store import compact_index

    rep = compact_index(name, load_settings(config, {"quiet": quiet or None}))
    if not rep.compacted:
        typer.echo(f"index {rep.path}: nothing removed, nothing to compact")
        return
    typer.echo(f"index {rep.path}: {rep.rows_before} rows -> {rep.rows_after}, "
               f"{rep.bytes_before / 2**20:.1f} MiB -> {rep.bytes_after / 2**20:.1f} MiB")


@app.command("search")
@user_errors
def search_cli(
    text: Annotated[str, typer.Argument(help="Text to search for.")],
    index: IndexNameOpt,
    k: Annotated[int, typer.Option("-k", help="Number of claims to return.")] = 10,
    nprobe: Annotated[int | None, typer.Option(
        "--nprobe", help="IVF lists to search (more: better recall, slower); default: the index's own.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per hit.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Nearest claims to TEXT in an index, with outlet, document and cosine score.

    Example: claimmatch search "The central bank raised interest rates" --index reuters -k 10
    """
    from claimmatch.store import search_index

    hits = search_index(index, text, k, load_settings(config, {"nprobe": nprobe}))
    for row in hits.iter_rows(named=True):
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            typer.echo(f"{row['rank']:>3}  {row['score']:.3f}  {row.get('outlet')}  {row['doc_id']}  "
                       f"{row['claim_id']}  {' '.join(str(row['text']).split())}")


@app.command("cluster")
@user_errors
def cluster_cli(
    index: IndexNameOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder for the reports.")] = Path("out"),
    threshold: Annotated[float | None, typer.Option(help="Same-claim cosine threshold.")] = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
) -> None:
    """Cluster the claims of an index (claims.parquet, clusters.parquet, clusters.md, run.json).

    Example: claimmatch cluster --index reuters --out out/reuters
    """
    from claimmatch.store import cluster_index

    settings = load_settings(config, {"threshold": threshold, "quiet": quiet or None, "use_nli": False})
    _report_written(cluster_index(index, out, settings))


if __name__ == "__main__":
    app()
