"""The Parquet lake: raw, meta and mart tables as Parquet folders any lakehouse engine can read.

Layout (docs/scale-out.md)::

    LAKE/raw/raw_interactions/period=2026-01/load=7/*.parquet  one folder per table, Hive-style
    LAKE/meta/meta_load_runs/part-0.parquet                    partitions by calendar month where
    LAKE/meta/meta_quarantine/load=7/part-0.parquet            the table has a date to split on,
    LAKE/marts/department_month/period=2026-01/...             and raw rows by the load of a file

`period` (YYYY-MM, text) and `load` (the load_id) are partition keys only: readers drop them, so
a table read back has exactly the columns it was written with. A file's rows sit in its load's
folders, so a file loaded again replaces its rows by removing folders (etl/scaleout/spark_load.py);
meta_load_runs says which loads are live.
"""

from __future__ import annotations

import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb

from etl.contract.sources import SOURCES
from etl.errors import CxkpiError
from etl.files import refuse_links_in
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
#: The partition key of raw rows and quarantined rows: the load_id of the file they came from.
LOAD = "load"
PARTITION_KEYS = (PERIOD, LOAD)
#: The load a table's empty placeholder file sits under (load ids start at 1).
EMPTY_LOAD = 0
#: Mart tables are split on their own `month` column when they have one.
MART_PERIOD_COLUMN = "month"
META_TABLES = ("meta_load_runs", "meta_quarantine")


@contextmanager
def writing(lake: Path):
    """Hold the lake for one Spark load or build: a second waits, saying so.

    A load moves folders into place and removes replaced ones, and a build tidies the lake
    before reading it, so two at once could remove each other's rows.
    """
    from etl.warehouse.publish import writer_lock

    lake = Path(lake)
    refuse_links_in(lake)
    lake.mkdir(parents=True, exist_ok=True)

    def waiting(_):
        print(f"{lake}: another Spark load or build holds the lake; waiting", file=sys.stderr)

    with writer_lock(lake / "_cxkpi", waiting):
        yield


def table_dir(lake: Path, layer: str, table: str) -> Path:
    """The folder that holds one table of the lake."""
    return Path(lake) / layer / table


def tables(lake: Path, layer: str) -> dict[str, Path]:
    """The tables of one layer present in the lake: name -> folder."""
    root = Path(lake) / layer
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir()) if p.is_dir() and has_parquet(p)}


def has_parquet(folder: Path) -> bool:
    return any(folder.rglob("*.parquet"))


def check(lake: Path) -> None:
    """Refuse a lake without its meta tables, naming what is missing and how to get it.

    A raw table may be missing (a source never loaded): the build makes it empty
    (`create_missing`), as a DuckDB warehouse's is. meta_load_runs may not, since it says which
    loads are live, and a lake without it would read as holding no live rows.
    """
    present = tables(lake, "meta")
    missing = [name for name in META_TABLES if name not in present]
    if missing:
        raise CxkpiError(
            f"{lake}: tables missing from the lake ({', '.join(missing)}): "
            "export a warehouse's raw layer with `cxkpi lake export`, or have your platform's"
            " jobs write them (docs/scale-out.md)"
        )


def partition_keys(folder: Path) -> list[str]:
    """The Hive partition keys of a lake table, outermost first ([] when not partitioned)."""
    keys, level = [], Path(folder)
    while True:
        child = next((p for p in sorted(level.iterdir()) if p.is_dir() and "=" in p.name), None)
        if child is None:
            return keys
        keys.append(child.name.split("=", 1)[0])
        level = child


def duckdb_source(folder: Path) -> str:
    """A DuckDB table expression reading one lake table, without the partition keys."""
    glob = literal(str(folder / "**" / "*.parquet"))
    keys = partition_keys(folder)
    if not keys:
        return f"read_parquet({glob})"
    types = ", ".join(f"'{k}': VARCHAR" for k in keys)
    return (
        f"(SELECT * EXCLUDE ({', '.join(keys)}) FROM read_parquet({glob},"
        f" hive_partitioning = true, hive_types = {{{types}}}))"
    )


def export(con: duckdb.DuckDBPyConnection, lake: Path) -> dict[str, int]:
    """Write the warehouse's raw and meta tables to the lake; rows written per table.

    This is how a warehouse loaded by DuckDB moves to a lakehouse (or feeds `build --engine
    spark`): each table is replaced whole, so an export is repeatable.
    """
    return {table: _copy(con, table, folder_of(lake, table)) for table in lake_tables()}


def lake_tables() -> list[str]:
    """Every raw and meta table a lake holds."""
    return [s.raw_table for s in SOURCES.values()] + list(META_TABLES)


def folder_of(lake: Path, table: str) -> Path:
    """The folder of a raw or meta table."""
    return table_dir(lake, "meta" if table in META_TABLES else "raw", table)


def _partitions(table: str) -> dict[str, str]:
    """A lake table's partition keys and the SQL expression of each, outermost first."""
    if table == "meta_quarantine":
        return {LOAD: "load_id"}
    if table in RAW_PERIOD_COLUMNS:
        return {PERIOD: f"strftime({RAW_PERIOD_COLUMNS[table]}, '%Y-%m')", LOAD: "_load_id"}
    if table.startswith("raw_"):
        return {LOAD: "_load_id"}
    return {}


def _copy(con, table: str, folder: Path, rows_of: str | None = None) -> int:
    """Write a table (or the query rows_of) to a lake folder, replacing the folder."""
    if folder.exists():
        shutil.rmtree(folder)
    query = rows_of or f"FROM {table}"
    rows = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
    keys = _partitions(table)
    if not keys or rows == 0:
        # An empty partitioned table keeps its schema in a file under the placeholder load.
        empty = folder.joinpath(*(f"{k}={EMPTY_LOAD}" for k in keys))
        empty.mkdir(parents=True)
        con.execute(f"COPY ({query}) TO {literal(str(empty / 'part-0.parquet'))} (FORMAT parquet)")
        return rows
    folder.mkdir(parents=True)
    columns = ", ".join(f"{sql} AS {key}" for key, sql in keys.items())
    con.execute(
        f"COPY (SELECT *, {columns} FROM ({query})) TO {literal(str(folder))}"
        f" (FORMAT parquet, PARTITION_BY ({', '.join(keys)}), OVERWRITE_OR_IGNORE)"
    )
    return rows


def create_missing(lake: Path) -> list[str]:
    """Give the lake an empty table for every raw and meta table it lacks; the names created.

    A lake that `cxkpi load --engine spark` starts holds every table, as a new warehouse does.
    """
    from etl.warehouse.publish import ensure_schema

    present = {**tables(lake, "raw"), **tables(lake, "meta")}
    missing = [t for t in lake_tables() if t not in present]
    if missing:
        with duckdb.connect() as con:
            ensure_schema(con)
            for table in missing:
                _copy(con, table, folder_of(lake, table))
    return missing


def replace(con: duckdb.DuckDBPyConnection, table: str, lake: Path) -> None:
    """Replace a small unpartitioned lake table with con's table of that name, in one rename.

    The new folder is written beside the old and swapped in; `tidy` finishes a swap that a
    stopped process left half done.
    """
    folder = folder_of(lake, table)
    new, old = folder.with_name(folder.name + ".new"), folder.with_name(folder.name + ".old")
    _copy(con, table, new)
    if folder.exists():
        folder.rename(old)
    new.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def live_loads(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The load ids whose rows are the raw layer: loaded, and not replaced since."""
    rows = con.execute(
        "SELECT load_id FROM meta_load_runs WHERE superseded_by IS NULL"
        " AND status IN ('loaded', 'quarantined')"
    ).fetchall()
    return {r[0] for r in rows}


#: Where a load writes before its rows move into place (removed by `tidy`).
INCOMING = "_incoming"


def read_runs(lake: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse holding the lake's meta_load_runs (and empty raw tables)."""
    from etl.warehouse.publish import ensure_schema

    con = duckdb.connect()
    ensure_schema(con)
    folder = folder_of(lake, "meta_load_runs")
    if folder.is_dir() and has_parquet(folder):
        con.execute(f"INSERT INTO meta_load_runs BY NAME FROM {duckdb_source(folder)}")
    return con


def tidy(lake: Path) -> list[Path]:
    """Remove what meta_load_runs does not vouch for; the folders removed.

    That is a stopped load's rows (a load id that was never recorded), rows a later load of
    the same file replaced, and any half-written swap or staging folder. Run before a Spark
    load or build, so both read only live loads.
    """
    lake = Path(lake)
    meta = lake / "meta"
    runs = folder_of(lake, "meta_load_runs")
    new, old = runs.with_name(runs.name + ".new"), runs.with_name(runs.name + ".old")
    if not runs.exists() and new.exists():
        new.rename(runs)
    removed = [p for p in (new, old, lake / INCOMING) if p.exists()]
    with read_runs(lake) as con:
        live = live_loads(con)
        recorded = {r[0] for r in con.execute("SELECT load_id FROM meta_load_runs").fetchall()}
    for source in SOURCES.values():
        folder = table_dir(lake, "raw", source.raw_table)
        removed += [p for p in _load_dirs(folder) if _load_of(p) not in live]
    removed += [p for p in _load_dirs(meta / "meta_quarantine") if _load_of(p) not in recorded]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    for period in {p.parent for p in removed if p.parent.name.startswith(f"{PERIOD}=")}:
        if period.is_dir() and not any(period.iterdir()):
            period.rmdir()
    return removed


def _load_dirs(folder: Path) -> list[Path]:
    """A table's load folders (at any depth), but the empty placeholder's."""
    if not folder.is_dir():
        return []
    found = list(folder.glob(f"{LOAD}=*")) + list(folder.glob(f"*/{LOAD}=*"))
    return [p for p in found if p.is_dir() and _load_of(p) != EMPTY_LOAD]


def _load_of(folder: Path) -> int | None:
    try:
        return int(folder.name.split("=", 1)[1])
    except ValueError:
        return None


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
    from etl.warehouse import models

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
        if folder.is_dir() and has_parquet(folder):
            con.execute(f"INSERT INTO {table} BY NAME FROM {duckdb_source(folder)}")
    marts = {name: duckdb_source(table_dir(lake, "marts", name)) for name in built}
    names = models.build(con, on_model, prebuilt=marts)
    # The marts came from another engine through translated SQL: the models' own tests are
    # the last word before the dashboard shows them.
    models.refuse_failures(con, f"{db}: the lake's tables")
    con.execute(
        f"CREATE OR REPLACE TABLE {MARKER} AS SELECT $lake AS lake, 'spark' AS engine,"
        " now()::TIMESTAMP AS published_at",
        {"lake": str(lake)},
    )
    return names
