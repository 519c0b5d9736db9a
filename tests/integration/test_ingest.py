"""DuckDB's typed ingest (etl/loading/ingest.py) loads exactly what checking every row loads.

The same exports, with rows breaking every rule, key and type of every source, are loaded
twice by the real command: as it runs by default (plain files typed and checked in DuckDB,
suspect rows through Polars and Great Expectations) and with CXKPI_INGEST=checked (every row
through Polars and Great Expectations). Raw rows, quarantine and load runs must be equal,
and the typed path must really have been taken.
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
from tests.conftest import CXKPI, DEPARTMENTS_CSV, write
from tests.exports import broken_exports, realistic_exports

MODES = ("typed", "checked")
RAW_TABLES = [s.raw_table for s in SOURCES.values()]


def _load(db: Path, folder: Path, mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CXKPI_INGEST": "checked" if mode == "checked" else ""}
    return subprocess.run(
        [CXKPI, "--db", str(db), "load", "--no-build", str(folder)],
        capture_output=True, text=True, timeout=600, env=env,
    )  # fmt: skip


def _tables(db: Path) -> dict[str, pl.DataFrame]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {
            table: con.sql(f"SELECT * FROM {table} ORDER BY _file, _row_number").pl()
            for table in RAW_TABLES
        }
        found["meta_quarantine"] = con.sql(
            "SELECT * REPLACE (raw_record::VARCHAR AS raw_record) FROM meta_quarantine"
            " ORDER BY load_id, row_number"
        ).pl()
        found["meta_load_runs"] = con.sql(
            "SELECT * EXCLUDE (started_at, finished_at) FROM meta_load_runs ORDER BY load_id"
        ).pl()
        return found
    finally:
        con.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("ingest")
    exports = broken_exports(root)
    out: dict = {}
    for mode in MODES:
        db = root / f"{mode}.duckdb"
        runs = [_load(db, exports[round_], mode) for round_ in ("first", "second")]
        out[mode] = {"runs": runs, "tables": _tables(db)}
    return out


def test_both_ways_ran_and_the_typed_path_was_taken(loaded):
    for mode in MODES:
        for run in loaded[mode]["runs"]:
            assert "Traceback" not in run.stderr, run.stderr[-2000:]
            assert run.returncode == 1, run.stderr[-2000:]  # some rows are quarantined
    typed = loaded["typed"]["runs"][0].stderr.count(": typed (")
    assert typed >= 10, loaded["typed"]["runs"][0].stderr[-3000:]
    assert ": typed (" not in loaded["checked"]["runs"][0].stderr


@pytest.mark.parametrize("table", [*RAW_TABLES, "meta_quarantine", "meta_load_runs"])
def test_every_table_equals_checking_every_row(loaded, table):
    typed, checked = (loaded[mode]["tables"][table] for mode in MODES)
    assert_frame_equal(typed, checked)


def test_the_comparison_sees_bad_rows_of_every_kind(loaded):
    quarantine = loaded["checked"]["tables"]["meta_quarantine"]
    rules = set(quarantine["rule"])
    assert {
        "type:int", "type:date", "type:timestamp", "range", "allowed_values", "known_department",
        "not_null", "at_least_one_of", "not_above", "unique", "unique_across_files",
    } <= rules  # fmt: skip


@pytest.fixture(scope="module")
def realistic(tmp_path_factory) -> dict:
    """Exports with extra columns, every kind of white space, a column dropped for privacy."""
    root = tmp_path_factory.mktemp("realistic")
    folder = realistic_exports(root)
    return {
        mode: (_load(root / f"{mode}.duckdb", folder, mode), root / f"{mode}.duckdb")
        for mode in MODES
    }


def test_extra_columns_and_odd_white_space_take_the_typed_path(realistic):
    run, _ = realistic["typed"]
    said = run.stdout + run.stderr
    assert "Traceback" not in said and run.returncode == 1, said[-2000:]
    for name in (
        "interactions/2024-11.csv",
        "interactions/2024-12.parquet",
        "nps_responses/2024-11.csv",
        "2025-01.csv",
    ):
        assert f"{name}: typed (" in run.stderr, (name, run.stderr[-3000:])
    assert "dropped (could identify a person): email" in said


@pytest.mark.parametrize("table", [*RAW_TABLES, "meta_quarantine", "meta_load_runs"])
def test_extra_columns_and_odd_white_space_equal_checking_every_row(realistic, table):
    typed, checked = (_tables(realistic[mode][1])[table] for mode in MODES)
    assert_frame_equal(typed, checked)
    if table == "raw_interactions":
        extras = typed["_extra"].drop_nulls()
        assert extras.len() == typed.height and extras.str.contains("Réclamation").any()
        assert typed["department_id"].str.contains(r"\s").sum() == 0


def test_row_numbers_follow_the_file_across_parallel_reads(tmp_path, inbox):
    """A file DuckDB reads in several parallel pieces (60 MB: two of its 32 MB buffers): every
    row keeps its line's number, suspect rows scattered through it included. (Checking a
    value against a list with SQL's IN made DuckDB reorder rows: a join.)"""
    lines = ["interaction_id,started_at,department_id,handle_seconds,channel,resolved,customer_id"]
    customer = "C" * 100
    bad = set(range(7, 420_000, 10_007))
    for row in range(1, 420_001):
        department = "ZZ" if row in bad else ("FL", "BO")[row % 2]
        resolved = ("yes", "no", "true", "0")[row % 4]
        seconds = row % 900 + 1
        lines.append(
            f"I{row:07d},2026-01-05T09:00:00,{department},{seconds},phone,{resolved},{customer}"
        )
    write(inbox, "interactions", "\n".join(lines) + "\n")
    write(inbox, "departments", DEPARTMENTS_CSV, "departments.csv")
    db = tmp_path / "w.duckdb"
    run = _load(db, inbox, "typed")
    assert ": typed (420,000 rows)" in run.stderr, run.stderr[-2000:]
    con = duckdb.connect(str(db), read_only=True)
    try:
        misplaced = con.execute(
            "SELECT count(*) FROM raw_interactions"
            " WHERE interaction_id <> printf('I%07d', _row_number)"
        ).fetchall()[0][0]
        quarantined = con.execute(
            "SELECT list(row_number ORDER BY row_number) FROM meta_quarantine"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert misplaced == 0
    assert quarantined == sorted(bad)


def test_a_file_mostly_suspect_is_checked_whole(tmp_path, inbox):
    """Rows with a timestamp shape SQL leaves to Polars (minutes only): more than a third of
    the file is suspect, so the whole file takes the checked path, and every row loads."""
    lines = ["interaction_id,started_at,department_id,handle_seconds"]
    lines += [f"I{row},2026-01-05T09:{row % 60:02d},FL,60" for row in range(1, 301)]
    lines += [f"J{row},2026-01-05T09:00:00,FL,60" for row in range(1, 401)]
    write(inbox, "interactions", "\n".join(lines) + "\n")
    run = _load(tmp_path / "w.duckdb", inbox, "typed")
    assert run.returncode == 0, run.stderr[-2000:]
    assert "interactions/2026-01.csv: typed" not in run.stderr
    assert "interactions/2026-01.csv: validated (700 rows)" in run.stderr
    assert "2026-01.csv: loaded (700 read, 700 loaded, 0 quarantined)" in run.stdout + run.stderr
