"""`cxkpi load` and `cxkpi validate`: exports into the raw layer, or only checked."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from etl import settings
from etl.cli.base import Progress, _engine_options, _profile, _settings, cli
from etl.cli.build import _spark_build
from etl.errors import CxkpiError


def _dialect_options(command):
    """--encoding and --delimiter: how contract CSV files are written, when not detected."""
    command = click.option(
        "--delimiter",
        metavar="CHAR",
        help="The contract files' delimiter (';', tab, '|'; default: from the header).",
    )(command)
    return click.option(
        "--encoding",
        metavar="NAME",
        help="The contract files' encoding (e.g. windows-1252; default: UTF-8, else detected).",
    )(command)


def _stated(encoding: str | None, delimiter: str | None, profile: str | None):
    """What --encoding and --delimiter said, checked; a profile states its own."""
    from etl.loading.dialect import Stated

    if profile and (encoding or delimiter):
        raise click.UsageError(
            "--encoding and --delimiter are for contract files: a profile states how its"
            " exports are read (read: encoding, delimiter in docs/profiles.md)"
        )
    try:
        return Stated.of(encoding, delimiter)
    except CxkpiError as error:
        raise click.UsageError(str(error)) from None


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Treat every file as this source (default: from the folder name).")
@click.option("--no-build", is_flag=True, help="Load the raw layer only; do not rebuild views.")
@click.option(
    "--profile",
    metavar="NAME|PATH",
    help="Read foreign exports through a mapping profile (docs/profiles.md).",
)
@_dialect_options
@_engine_options("files are read and checked")
@click.pass_obj
def load(
    obj: dict,
    paths: tuple[str, ...],
    source: str | None,
    no_build: bool,
    profile: str | None,
    encoding: str | None,
    delimiter: str | None,
    engine: str,
    lake: Path | None,
    master: str | None,
    confs: tuple[str, ...],
) -> None:
    """Load export files or folders (<folder>/<source>/*.csv|*.parquet) into the warehouse.

    With --profile, the files are foreign exports (CSV, TSV, XLSX, Parquet) that the profile
    maps to its contract source. A contract file in Windows-1252 or UTF-16, or separated by
    ';', tab or '|', is read as such (say so with --encoding and --delimiter, or let the
    header and bytes tell); the load's message records what was assumed. With --engine spark,
    Spark loads the files into the lake's raw layer, and then (unless --no-build) builds and
    publishes as `build --engine spark`.
    """
    stated = _stated(encoding, delimiter, profile)
    if engine == "spark" and (encoding or delimiter):
        raise click.UsageError(
            "--encoding and --delimiter go with the DuckDB engine: Spark reads UTF-8,"
            " comma-separated files (docs/scale-out.md)"
        )
    if engine == "spark":
        results = _load_on_spark(obj, paths, source, not no_build, profile, lake, master, confs)
    elif lake or master or confs:
        raise click.UsageError("--lake, --master and --conf go with --engine spark")
    else:
        results = _load(obj, paths, source, build=not no_build, profile=profile, stated=stated)
    sys.exit(0 if all(r.ok for r in results) else 1)


def _load_on_spark(obj: dict, paths, source, build: bool, profile, lake, master, confs):
    from etl.scaleout import lake as lakes
    from etl.scaleout import spark, spark_load

    if profile:
        raise click.UsageError(
            "--profile goes with the DuckDB engine: load foreign exports with DuckDB, then"
            " `cxkpi lake export` (docs/scale-out.md)"
        )
    if lake is None:
        raise click.UsageError("--engine spark needs --lake DIR (docs/scale-out.md)")
    conf = _settings(confs)
    settings.check(settings.LOAD)
    files = _collect(paths, source)
    with lakes.writing(lake), Progress(obj["quiet"]) as progress:
        progress.stage("Spark", "starting")
        with spark.running(master, conf) as session:
            results = spark_load.load_files(
                session,
                lake,
                files,
                report=progress.stage,
                on_result=lambda result: progress.echo(result.summary()),
            )
            if build:
                _spark_build(obj, lake, session, progress)
    return results


def _load(
    obj: dict,
    paths,
    source: str | None,
    build: bool,
    profile: str | None = None,
    by_source: bool = False,
    stated=None,
):
    """Load the files, and build unless told not to; the results, file by file.

    by_source: one line per source once its files are in (the demo's), instead of a line per
    file and its stages (`cxkpi load`'s).
    """
    from etl.loading import load as loading
    from etl.scaleout.lake import refuse_load
    from etl.warehouse import models
    from etl.warehouse.publish import writing

    settings.check(settings.LOAD)  # before any file: a bad value may only show on a late row
    mapping = _profile(profile)
    files = _collect(paths, source, mapping)
    noted = [
        loading.journal_entry(path, mapping.source.name if mapping else src) for path, src in files
    ]
    results = []
    quiet = obj["quiet"] or (by_source and not sys.stderr.isatty())
    with Progress(quiet) as progress, writing(obj["db"], files=noted) as con:
        refuse_load(con, obj["db"])
        progress.total(sum(p.stat().st_size for p, _ in files if p.exists()))
        for index, (path, src) in enumerate(files):
            result = loading.load_file(
                con, path, src, report=progress.stage, profile=mapping, stated=stated
            )
            progress.advance(path.stat().st_size if path.exists() else 0)
            results.append(result)
            if not by_source or not result.ok:
                progress.echo(result.summary())
            if by_source and (index + 1 == len(files) or files[index + 1][0].parent != path.parent):
                progress.echo(_source_line([r for r in results if r.path.parent == path.parent]))
        changed = any(r.status not in ("unchanged", "refused") for r in results)
        if build and not changed:
            progress.echo(f"{obj['db']}: nothing changed; the views were not rebuilt")
        elif build:
            built = models.build(con, on_model=lambda name: progress.stage(name, "building"))
            progress.stage("the models' tests", "running")
            models.refuse_failures(con, f"{obj['db']}: the loaded data")
            progress.echo(f"{obj['db']}: built {len(built)} models")
    return results


def _source_line(results) -> str:
    """interactions: 24 files, 1,234,567 rows loaded, 12 quarantined (one folder's files)."""
    files = len(results)
    source = results[-1].source or results[-1].path.parent.name
    line = (
        f"{source}: {files:,} {'file' if files == 1 else 'files'},"
        f" {sum(r.rows_loaded for r in results):,} rows loaded,"
        f" {sum(r.rows_quarantined for r in results):,} quarantined"
    )
    failed = sum(not r.ok for r in results)
    return line + (f", {failed} failed (above)" if failed else "")


def _collect(paths, source, profile=None):
    from etl.loading.load import collect

    try:
        return collect(paths, source, profile)
    except CxkpiError as error:
        raise click.UsageError(str(error)) from None


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--source", help="Treat every file as this source (default: from the folder name).")
@click.option("--show", default=5, show_default=True, help="Problems to list per file.")
@click.option(
    "--profile",
    metavar="NAME|PATH",
    help="Read foreign exports through a mapping profile (docs/profiles.md).",
)
@_dialect_options
@click.pass_obj
def validate(
    obj: dict,
    paths: tuple[str, ...],
    source: str | None,
    show: int,
    profile: str | None,
    encoding: str | None,
    delimiter: str | None,
) -> None:
    """Check files against the input contract without loading anything.

    Files are read as `load` reads them: --encoding and --delimiter, or detected.
    """
    from etl.loading.dry_run import check_files

    stated = _stated(encoding, delimiter, profile)
    mapping = _profile(profile)
    files = _collect(paths, source, mapping)
    ok = True
    for checked in check_files(files, obj["db"], show, mapping, stated):
        result, problems = checked.result, checked.problems
        click.echo(result.summary())
        for line in problems:
            click.echo(f"  {line}")
        if result.rows_quarantined > len(problems):
            click.echo(f"  ... and {result.rows_quarantined - len(problems)} more")
        if len(checked.rules) > 1 or result.rows_quarantined > len(problems):
            click.echo("  by rule: " + ", ".join(label for label, _ in checked.rules))
        ok = ok and result.ok
    sys.exit(0 if ok else 1)
