"""The Parquet lake: raw, meta and mart tables as Parquet folders any lakehouse engine can read.

Layout (docs/scale-out.md)::

    LAKE/raw/raw_interactions/period=2026-01/part-*.parquet   one folder per table, Hive-style
    LAKE/meta/meta_load_runs/part-*.parquet                   partitions by calendar month where
    LAKE/marts/department_month/period=2026-01/...            the table has a date to split on

`period` (YYYY-MM, text) is the partition key only: readers drop it, so a table read back has
exactly the columns it was written with.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from etl.contract import SOURCES
from etl.errors import CxkpiError
from etl.sqltext import literal

#: The partition key of every partitioned table: the calendar month as YYYY-MM.
PERIOD = "period"
#: The date or timestamp a raw table is split by month on; tables not listed are small.
RAW_PERIOD_COLUMNS = {
    "raw_interactions": "started_at",
    "raw_case_tasks": "opened_at",
    "raw_workforce": "work_date",
    "raw_nps_responses": "responded_at",
    "raw_engagement_responses": "wave",
}
#: Mart tables are split on their own `month` column when they have one.
MART_PERIOD_COLUMN = "month"
META_TABLES = ("meta_load_runs", "meta_quarantine")


def table_dir(lake: Path, layer: str, table: str) -> Path:
    """The folder that holds one table of the lake."""
    return Path(lake) / layer / table


def tables(lake: Path, layer: str) -> dict[str, Path]:
    """The tables of one layer present in the lake: name -> folder."""
    root = Path(lake) / layer
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and _has_parquet(p)}


def _has_parquet(folder: Path) -> bool:
    return any(folder.rglob("*.parquet"))


def check(lake: Path) -> None:
    """Refuse a lake without every raw and meta table, naming what is missing and how to get it."""
    present = {**tables(lake, "raw"), **tables(lake, "meta")}
    wanted = [s.raw_table for s in SOURCES.values()] + list(META_TABLES)
    missing = [name for name in wanted if name not in present]
    if missing:
        raise CxkpiError(
            f"{lake}: tables missing from the lake ({', '.join(missing)}): "
            "export a warehouse's raw layer with `cxkpi lake export`, or have your platform's"
            " jobs write them (docs/scale-out.md)"
        )


def duckdb_source(folder: Path) -> str:
    """A DuckDB table expression reading one lake table, without the partition key."""
    glob = literal(str(folder / "**" / "*.parquet"))
    partitioned = any(p.is_dir() and p.name.startswith(f"{PERIOD}=") for p in folder.iterdir())
    if not partitioned:
        return f"read_parquet({glob})"
    return (
        f"(SELECT * EXCLUDE ({PERIOD}) FROM read_parquet({glob}, hive_partitioning = true,"
        f" hive_types = {{'{PERIOD}': VARCHAR}}))"
    )


def export(con: duckdb.DuckDBPyConnection, lake: Path) -> dict[str, int]:
    """Write the warehouse's raw and meta tables to the lake; rows written per table.

    This is how a warehouse loaded by DuckDB moves to a lakehouse (or feeds `build --engine
    spark`): each table is replaced whole, so an export is repeatable.
    """
    written = {}
    for source in SOURCES.values():
        written[source.raw_table] = _copy(
            con,
            source.raw_table,
            table_dir(lake, "raw", source.raw_table),
            RAW_PERIOD_COLUMNS.get(source.raw_table),
        )
    for table in META_TABLES:
        written[table] = _copy(con, table, table_dir(lake, "meta", table), None)
    return written


def _copy(con, table: str, folder: Path, period_of: str | None) -> int:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rows = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    target = literal(str(folder))
    if period_of is None or rows == 0:
        con.execute(
            f"COPY (FROM {table}) TO {literal(str(folder / 'part-0.parquet'))} (FORMAT parquet)"
        )
    else:
        con.execute(
            f"COPY (SELECT *, strftime({period_of}, '%Y-%m') AS {PERIOD} FROM {table})"
            f" TO {target} (FORMAT parquet, PARTITION_BY ({PERIOD}), OVERWRITE_OR_IGNORE)"
        )
    return rows


#: The table that marks a warehouse published from a lake, and says which.
MARKER = "meta_lake"


def published_from(con: duckdb.DuckDBPyConnection) -> str | None:
    """The lake a warehouse was published from, or None for a warehouse loaded by DuckDB."""
    present = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = $t", {"t": MARKER}
    ).fetchall()
    if not present:
        return None
    return con.execute(f"SELECT lake FROM {MARKER}").fetchall()[0][0]


def refuse_load(con: duckdb.DuckDBPyConnection, db: Path) -> None:
    """Loading into a warehouse published from a lake would be lost at the next publish."""
    lake = published_from(con)
    if lake:
        raise CxkpiError(
            f"{db}: published from the lake {lake} by `cxkpi build --engine spark`; its raw "
            "tables are the lake's Parquet files: load into the lake and build again"
        )


def publish(
    con: duckdb.DuckDBPyConnection, lake: Path, built: list[str], db: Path, on_model=None
) -> list[str]:
    """Make con's warehouse the lake's: raw tables as views over its Parquet, meta tables and
    the marts Spark built copied in, then the rest built by DuckDB; the names built.

    What DuckDB builds here reads the marts only: the analyses' statistics, the models that
    read them, and models pinned to DuckDB. Snapshots already frozen in the file are kept.
    The models' YAML tests then run on the result; a failure publishes nothing.
    """
    from etl import models

    lake = Path(lake).resolve()
    raw_tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if published_from(con) is None and any(
        con.execute(f"SELECT count(*) FROM {s.raw_table}").fetchall()[0][0]
        for s in SOURCES.values()
        if s.raw_table in raw_tables
    ):
        raise CxkpiError(
            f"{db}: holds rows loaded by DuckDB; publish the Spark build to another file "
            "(--db), or move this warehouse's raw layer to the lake with `cxkpi lake export`"
        )
    for source in SOURCES.values():
        if source.raw_table in raw_tables:
            con.execute(f"DROP TABLE {source.raw_table}")
        folder = table_dir(lake, "raw", source.raw_table)
        con.execute(f"CREATE OR REPLACE VIEW {source.raw_table} AS FROM {duckdb_source(folder)}")
    for table in META_TABLES:
        folder = table_dir(lake, "meta", table)
        con.execute(f"DELETE FROM {table}")
        if folder.is_dir() and _has_parquet(folder):
            con.execute(f"INSERT INTO {table} BY NAME FROM {duckdb_source(folder)}")
    marts = {name: duckdb_source(table_dir(lake, "marts", name)) for name in built}
    names = models.build(con, on_model, prebuilt=marts)
    # The marts came from another engine through translated SQL: the models' own tests are
    # the last word before the dashboard shows them.
    failures = models.run_tests(con)
    if failures:
        shown = "; ".join(failures[:3]) + (
            f"; and {len(failures) - 3} more" if failures[3:] else ""
        )
        raise CxkpiError(
            f"{db}: the lake's tables fail {len(failures)} of the models' tests, so nothing was"
            f" published: {shown}"
        )
    con.execute(
        f"CREATE OR REPLACE TABLE {MARKER} AS SELECT $lake AS lake, 'spark' AS engine,"
        " now()::TIMESTAMP AS published_at",
        {"lake": str(lake)},
    )
    return names
