"""Where the server keeps its files is the server's: no view a reader below data owner sees
holds an absolute path of the machine (load_runs.file, a pack's path, a profile's path)."""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest

from etl.reporting.snapshot import BOARD_SNAPSHOTS_DDL
from etl.warehouse.access import Visibility
from etl.warehouse.read_only import connect_read_only, cursor


@pytest.fixture(scope="module")
def warehouse(sample_db, tmp_path_factory):
    """The sample with a board snapshot whose pack lies in a folder of the server."""
    db = tmp_path_factory.mktemp("paths") / "cx.duckdb"
    shutil.copy(sample_db, db)
    con = duckdb.connect(str(db))
    con.execute(BOARD_SNAPSHOTS_DDL)
    folder = str(db.parent / "snapshots")
    con.execute(
        "INSERT INTO board_snapshots VALUES ('2026-10-v1', '2026-10-01', 1, now(), 'a', $p, $h,"
        " 's', 1, 'f', '[]', NULL, NULL, '')",
        {"p": f"{folder}/pack.pdf", "h": f"{folder}/pack.html"},
    )
    con.close()
    return db


def _texts_with(db, visibility: Visibility, needle: str) -> list[tuple[str, str]]:
    con = connect_read_only(db, visibility)
    reader = cursor(con)
    try:
        columns = reader.sql(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_catalog = current_database() AND data_type = 'VARCHAR'"
        ).fetchall()
        return [
            (view, column)
            for view, column in columns
            if reader.sql(
                f'SELECT count(*) FROM "{view}" WHERE contains("{column}", $n)',
                params={"n": needle},
            ).fetchall()[0][0]
        ]
    finally:
        reader.close()
        con.close()


def _root(warehouse, sample_db) -> str:
    """The folder that holds the sample's files, its warehouses and this warehouse's pack.

    The sample is shared by the run's workers and this warehouse lies in the worker's own
    folder, so it is the folder both lie in.
    """
    return os.path.commonpath([sample_db, warehouse])


@pytest.mark.parametrize("scope", [None, ("BIL",)])
def test_no_view_below_a_data_owner_holds_a_server_path(warehouse, sample_db, scope):
    root = _root(warehouse, sample_db)
    assert _texts_with(warehouse, Visibility(scope, raw_records=False), root) == []


def test_a_data_owner_still_sees_where_files_came_from(warehouse, sample_db):
    found = _texts_with(warehouse, Visibility(None, raw_records=True), _root(warehouse, sample_db))
    assert ("load_runs", "file") in found and ("board_snapshots", "pdf_path") in found
