"""`cxkpi build` and `cxkpi lake export`: the models, on DuckDB or on Spark."""

from __future__ import annotations

from pathlib import Path

import click

from etl.cli.base import Progress, _engine_options, _settings, cli
from etl.errors import CxkpiError


@cli.command()
@_engine_options("the models run")
@click.pass_obj
def build(
    obj: dict, engine: str, lake: Path | None, master: str | None, confs: tuple[str, ...]
) -> None:
    """Rebuild the staging views and marts from the raw layer, and test them.

    The tests the models' YAML declares run on the result; if one fails, nothing is
    published and the previous build stays.

    With --engine spark, Spark builds the marts from the lake's Parquet into LAKE/marts, and
    the database file becomes the dashboard's copy of them (raw tables read from the lake).
    """
    from etl.scaleout.lake import published_from
    from etl.warehouse import models
    from etl.warehouse.publish import writing

    if engine == "spark":
        _build_on_spark(obj, lake, master, _settings(confs))
        return
    if lake or master or confs:
        raise click.UsageError("--lake, --master and --conf go with --engine spark")
    if not obj["db"].exists():
        raise CxkpiError(f"{obj['db']}: no database yet; run `cxkpi load` first")
    with Progress(obj["quiet"]) as progress, writing(obj["db"]) as con:
        source = published_from(con)
        if source:
            raise CxkpiError(
                f"{obj['db']}: published from the lake {source}; build it again with"
                f" --engine spark --lake {source} (its marts come from Spark)"
            )
        built = models.build(con, on_model=lambda name: progress.stage(name, "building"))
        progress.stage("the models' tests", "running")
        models.refuse_failures(con, f"{obj['db']}: the built models")
    click.echo(f"{obj['db']}: built {len(built)} models and passed their tests")


def _build_on_spark(obj: dict, lake: Path | None, master: str | None, conf: dict) -> None:
    from etl.scaleout import lake as lakes
    from etl.scaleout import spark

    if lake is None:
        raise click.UsageError("--engine spark needs --lake DIR (docs/scale-out.md)")
    lakes.check(lake)
    with lakes.writing(lake), Progress(obj["quiet"]) as progress:
        progress.stage("Spark", "starting")
        with spark.running(master, conf) as session:
            _spark_build(obj, lake, session, progress)


def _spark_build(obj: dict, lake: Path, session, progress: Progress) -> None:
    """Build the marts on Spark and publish them into --db (the caller holds the lake)."""
    from etl.scaleout import lake as lakes
    from etl.scaleout import spark
    from etl.warehouse.publish import writing

    marts = spark.build(
        session,
        lake,
        on_model=lambda name: progress.stage(name, "building on Spark"),
        published=_published_waves(obj["db"]),
    )
    progress.echo(f"{lake}: Spark built {len(marts)} marts into {lake / 'marts'}")
    with writing(obj["db"]) as con:
        built = lakes.publish(
            con, lake, marts, obj["db"], lambda name: progress.stage(name, "publishing")
        )
    progress.echo(f"{obj['db']}: published {len(built)} models from {lake}")


def _published_waves(db: Path) -> list[tuple]:
    """The employee-survey counts the warehouse's board snapshots published (none yet: [])."""
    import duckdb

    if not db.exists():
        return []
    with duckdb.connect(str(db), read_only=True) as con:
        present = con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = 'meta_published_engagement'"
        ).fetchall()
        return con.execute("FROM meta_published_engagement").fetchall() if present else []


@cli.group()
def lake() -> None:
    """The Parquet lake that `build --engine spark` reads (docs/scale-out.md)."""


@lake.command("export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def lake_export(obj: dict, folder: Path) -> None:
    """Write the warehouse's raw and meta tables to FOLDER as Parquet, split by month."""
    import duckdb

    from etl.scaleout import lake as lakes

    if not obj["db"].exists():
        raise CxkpiError(f"{obj['db']}: no database yet; run `cxkpi load` first")
    con = duckdb.connect(str(obj["db"]), read_only=True)
    try:
        source = lakes.published_from(con)
        if source:
            raise CxkpiError(f"{obj['db']}: published from the lake {source} already")
        with lakes.writing(folder):
            written = lakes.export(con, folder)
    finally:
        con.close()
    for table, rows in written.items():
        click.echo(f"{table}: {rows} rows")
    click.echo(f"{folder}: exported {len(written)} tables from {obj['db']}")
