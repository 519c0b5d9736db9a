"""`cxkpi load --engine spark` loads the lake as `cxkpi load` loads a warehouse.

The same exports, with rows that break every kind of rule, go through both engines; the raw
rows, the quarantine (rules, messages, the rows as sent) and the load runs must be equal.
Marked `spark` (CI runs it after the default suite).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from etl.contract.sources import SOURCES
from etl.loading.read import _other_timestamp_formats, _parse_column
from etl.scaleout import lake as lakes
from tests.conftest import CXKPI, run_cxkpi
from tests.exports import broken_exports

pytestmark = pytest.mark.spark

#: Files only the Spark engine refuses (it reads one row per line, and no ragged rows).
SPARK_REFUSES = {
    "ragged.csv": "line 4 (row 3) does not have the header's 6 values",
    "multiline.csv": "line 3 (row 2) does not have the header's 6 values",
    "blank.csv": "line 3 is empty: the Spark engine skips empty lines",
}


def _spark_refuses(column: str) -> pl.Expr:
    return pl.col(column).str.contains("/(" + "|".join(SPARK_REFUSES) + ")$")


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> dict[str, Path]:
    """A small set of exports: good rows, and rows breaking every rule, key and type."""
    return broken_exports(tmp_path_factory.mktemp("spark_load"))


def _spark_load(lake: Path, folder: Path) -> subprocess.CompletedProcess:
    # No Python on the executors: a Python task would fail the load (see test_spark_build).
    return subprocess.run(
        [CXKPI, "--db", str(lake.parent / "unused.duckdb"), "load", "--engine", "spark",
         "--lake", str(lake), "--master", "local[2]", "--no-build",
         "--conf", "spark.sql.shuffle.partitions=2", str(folder)],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYSPARK_PYTHON": "/nonexistent/python"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def loaded(exports) -> dict:
    """Both engines load the first round, then the second; the outputs of each command."""
    root = exports["root"]
    db, lake = root / "duckdb.duckdb", root / "lake"
    out = {"db": db, "lake": lake}
    for round_ in ("first", "second"):
        out[f"duckdb_{round_}"] = run_cxkpi(
            "--db", str(db), "load", "--no-build", str(exports[round_])
        )
        out[f"spark_{round_}"] = _spark_load(lake, exports[round_])
        if round_ == "first":
            out["lake_after_first"] = sorted(
                p.relative_to(lake).as_posix() for p in lake.rglob("load=*") if p.is_dir()
            )
            out["tables_after_first"] = _tables(db, lake)
    out["tables"] = _tables(db, lake)
    return out


def _tables(db: Path, lake: Path) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """Every raw and meta table as (DuckDB's, the lake's), comparable row by row."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {}
        for table in lakes.lake_tables():
            source = lakes.duckdb_source(lakes.folder_of(lake, table))
            query = "SELECT * REPLACE ({casts}) FROM {table}"
            casts = {
                "meta_load_runs": "NULL::TIMESTAMP AS started_at, NULL::TIMESTAMP AS finished_at,"
                " filtered::VARCHAR AS filtered",
                "meta_quarantine": "raw_record::VARCHAR AS raw_record",
            }.get(table, "_extra::VARCHAR AS _extra")
            order = {"meta_load_runs": "load_id", "meta_quarantine": "load_id, row_number"}.get(
                table, "_file, _row_number"
            )
            found[table] = tuple(
                con.sql(query.format(casts=casts, table=t) + f" ORDER BY {order}").pl()
                for t in (table, source)
            )
        return found
    finally:
        con.close()


def test_both_commands_ran(loaded):
    for name in ("duckdb_first", "spark_first", "duckdb_second", "spark_second"):
        result = loaded[name]
        assert "Traceback" not in result.stderr, (name, result.stderr)
        assert result.returncode == 1, (name, result.stdout, result.stderr)  # refusals: exit 1
    assert "quarantined" in loaded["spark_first"].stdout + loaded["spark_first"].stderr


@pytest.mark.parametrize("table", [s.raw_table for s in SOURCES.values()])
def test_raw_rows_equal_the_duckdb_load(loaded, table):
    for tables in (loaded["tables_after_first"], loaded["tables"]):
        duck, spark = tables[table]
        duck = duck.filter(~_spark_refuses("_file"))
        assert spark.schema == duck.schema
        assert spark.equals(duck), table
    if table == "raw_interactions":
        assert loaded["tables"][table][1].height > 500


def test_quarantine_equals_the_duckdb_load_rule_message_and_row_as_sent(loaded):
    duck, spark = loaded["tables"]["meta_quarantine"]
    duck = duck.filter(~_spark_refuses("file"))
    assert spark.equals(duck), (duck, spark)
    rules = set(spark["rule"])
    assert rules >= {
        "type:int", "type:timestamp", "known_department", "allowed_values", "range",
        "not_null", "unique", "unique_across_files", "at_least_one_of", "not_above", "type:date",
    }  # fmt: skip
    # The typed Parquet export's rejected row, as sent: its timestamp has its fraction.
    parquet = spark.filter(pl.col("file").str.ends_with(".parquet"))
    assert parquet.height == 1 and '.123456"' in parquet["raw_record"][0]
    # The anonymous survey's answers are redacted in the row as sent, on both engines.
    survey = spark.filter(pl.col("source") == "engagement_responses")
    assert survey.height == 1 and '"enps_score":"<redacted>"' in survey["raw_record"][0]
    assert '"email"' not in survey["raw_record"][0]


def test_load_runs_equal_the_duckdb_load_but_what_only_spark_refuses(loaded):
    duck, spark = loaded["tables"]["meta_load_runs"]
    assert spark["load_id"].to_list() == duck["load_id"].to_list()
    only = _spark_refuses("file")
    assert spark.filter(~only).equals(duck.filter(~only)), (duck, spark)
    assert set(spark["status"]) >= {"loaded", "quarantined", "refused"}
    refused = spark.filter(only)
    for name, where in SPARK_REFUSES.items():
        message = refused.filter(pl.col("file").str.ends_with(name))["message"][0]
        assert where in message, (name, message)
    # The corrected January replaced its first load, and February was unchanged.
    assert spark.filter(pl.col("superseded_by").is_not_null()).height == 1
    assert "unchanged" in loaded["spark_second"].stdout + loaded["spark_second"].stderr


def test_a_replaced_load_leaves_the_lake_and_nothing_is_left_half_written(loaded):
    lake = loaded["lake"]
    _, runs = loaded["tables"]["meta_load_runs"]
    replaced = runs.filter(pl.col("superseded_by").is_not_null())["load_id"][0]
    before = loaded["lake_after_first"]
    mine = f"load={replaced}"
    assert any(p.startswith("raw/") and p.endswith(mine) for p in before)
    now = [p.relative_to(lake).as_posix() for p in lake.rglob("load=*") if p.is_dir()]
    assert not any(p.startswith("raw/") and p.endswith(mine) for p in now)
    # Its quarantined rows stay, as they do in a warehouse (the load runs say it was replaced).
    assert f"meta/meta_quarantine/{mine}" in now
    assert not (lake / lakes.INCOMING).exists()
    live = set(
        runs.filter(pl.col("superseded_by").is_null() & (pl.col("rows_loaded") > 0))["load_id"]
    )
    raw = {int(p.rsplit("=", 1)[1]) for p in now if p.startswith("raw/")} - {lakes.EMPTY_LOAD}
    assert raw == live


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_spark_types_odd_values_as_the_duckdb_load_does(spark_session, monkeypatch, zone):
    """Every shape loading/read.py accepts or refuses, typed by both engines; values with an offset
    land in the business time zone ($CXKPI_TIMEZONE), across a change of summer time too."""
    from pyspark.sql import functions as F

    from etl.scaleout import spark_load
    from etl.scaleout.spark import values

    monkeypatch.setenv("CXKPI_TIMEZONE", zone)

    odd = [
        "1", "-1.5", "+2", "1e3", "1E-2", ".5", "5.", "inf", "-Infinity", "nan", "-nan", "1_000",
        "0x10", "1d", "1,5", "abc", "9999999999999999999999", "9223372036854775807", "2.5",
        "00012", "2026-01-05", "2026-1-5", "2026-01-05T10:11:12", "2026-01-05 10:11:12.123456789",
        "2026-01-05T10:11", "2026-01-05T9:05", "2026-01-05T10:11:12Z", "2026-01-05T10:11Z",
        "2026-01-05T10:11:12+01:00", "2026-01-05T10:11:12.5+0100", "2026-01-05T10:11:12-05",
        "20260105", "2026-13-01", "2026-02-29", "2024-02-29", "2026-01-05T25:00",
        "2026-01-05T10:11:12.", "2026-01-05T10:11:60", "2026-01-05T10:11:60.5",
        "2026-01-05T10:11:61", "12026-01-05", "true", "Yes", "0", "T", "FALSE", "n", "ja",
        "2026-03-08T06:59:59Z", "2026-03-08T07:00:00Z", "2026-11-01 05:30:00+00:00",
    ]  # fmt: skip
    kinds = {"number": "n", "int": "i", "date": "d", "timestamp": "ts", "bool": "b"}
    frame = values(spark_session, [("v", "VARCHAR")], [(v,) for v in odd])
    on_spark = frame.select(
        *(
            spark_load._parse(F.col("v"), kind).cast(spark_load._spark_type(kind)).alias(name)
            for kind, name in kinds.items()
        )
    )
    on_spark = pl.from_arrow(on_spark.toArrow())
    text = pl.DataFrame({name: odd for name in kinds.values()})
    on_polars = text.select(_parse_column(name, kind) for kind, name in kinds.items())
    on_polars = _other_timestamp_formats(text, on_polars, ["ts"])
    assert_frame_equal(on_spark, on_polars)
    assert on_polars["ts"].null_count() < len(odd) - 10  # the odd timestamps mostly parse


@pytest.fixture(scope="module")
def spark_session():
    from etl.scaleout import spark

    with spark.running("local[1]") as started:
        yield started
