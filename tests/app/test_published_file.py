"""The dashboard reads the file published now, and one file for the whole of a page run."""

from __future__ import annotations

import contextvars
import os
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from etl.warehouse.access import ROLES, Access
from etl.warehouse.read_only import connect_read_only, cursor


def warehouse(path: Path, version: int) -> Path:
    """A tiny database whose one table says which version it is (also as an analyst view)."""
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE published AS SELECT {version} AS version")
    con.execute(f"CREATE TABLE organisation_month AS SELECT {version} AS version")
    con.close()
    return path


def publish(tmp_path: Path, live: Path, version: int) -> None:
    """Replace the live file the way a load does: write beside it, then rename over it."""
    os.replace(warehouse(tmp_path / f"next-{version}.duckdb", version), live)


@pytest.fixture
def live(tmp_path, monkeypatch) -> Path:
    path = warehouse(tmp_path / "cxkpi.duckdb", 1)
    monkeypatch.setenv("CXKPI_DB", str(path))
    data.clear_cache()
    yield path
    data.clear_cache()


def test_a_newly_published_file_is_read_while_a_connection_to_the_old_one_is_open(tmp_path, live):
    assert data.fetch("SELECT version FROM published").item() == 1
    publish(tmp_path, live, 2)
    # DuckDB shares one instance per path in a process; the old file must not answer.
    assert data.fetch("SELECT version FROM published").item() == 2
    publish(tmp_path, live, 3)
    assert data.fetch("SELECT version FROM published").item() == 3


def _page_that_straddles_a_publish():
    import os

    import streamlit as st

    from dashboard import data
    from etl import settings
    from tests.app.test_published_file import publish

    data.pin()
    live = settings.DB.get()
    first = data.fetch("SELECT version FROM published").item()
    if os.environ.get("PUBLISH_AT") == "between" and not (live.parent / "done").exists():
        (live.parent / "done").touch()
        publish(live.parent, live, 2)
    second = data.fetch("SELECT version * 1 AS v FROM published").item()
    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    st.write(f"{first} {second}")


def _page_pinned_before_a_publish():

    import streamlit as st

    from dashboard import data
    from etl import settings
    from tests.app.test_published_file import publish

    data.pin()
    live = settings.DB.get()
    if not (live.parent / "done").exists():
        (live.parent / "done").touch()
        publish(live.parent, live, 2)  # before this run's first query opens a connection
    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    st.write(str(data.fetch("SELECT version FROM published").item()))


def _workbench_opened_after_a_publish():

    import streamlit as st

    from dashboard import data
    from etl import settings
    from tests.app.test_published_file import publish

    data.pin()
    live = settings.DB.get()
    if not (live.parent / "done").exists():
        (live.parent / "done").touch()
        publish(live.parent, live, 2)  # before this run opens the workbench
    st.session_state.setdefault("runs", 0)
    st.session_state["runs"] += 1
    box = data.workbench()
    st.write(str(box.run("SELECT version FROM organisation_month").frame.item()))


def test_the_workbench_opened_on_a_replaced_file_starts_again_on_the_new_one(live):
    app = AppTest.from_function(_workbench_opened_after_a_publish, default_timeout=60).run()
    assert not app.exception
    assert app.markdown[0].value == "2"
    assert app.session_state["runs"] == 2


def test_reading_again_after_a_publish_keeps_the_reader(tmp_path, live):
    def read_as_board():
        data.pin(Access(ROLES["board"], None, "b", "test"))
        publish(tmp_path, live, 2)
        assert data.fetch("SELECT version FROM published").item() == 2
        return data.reader().role.name

    assert contextvars.copy_context().run(read_as_board) == "board"


def test_a_page_run_reads_one_file_even_when_a_load_publishes_midway(live, monkeypatch):
    monkeypatch.setenv("PUBLISH_AT", "between")
    app = AppTest.from_function(_page_that_straddles_a_publish, default_timeout=60).run()
    assert not app.exception
    assert app.markdown[0].value == "1 1"  # the old file throughout, never "1 2"
    app.run()
    assert app.markdown[0].value == "2 2"  # the next run reads the new file


def test_a_page_whose_file_is_replaced_before_it_opens_starts_again_on_the_new_one(live):
    app = AppTest.from_function(_page_pinned_before_a_publish, default_timeout=60).run()
    assert not app.exception
    assert app.markdown[0].value == "2"
    assert app.session_state["runs"] == 2  # it stopped on the old pin and ran again


@pytest.mark.parametrize(
    ("statement", "refusal"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "file system operations are disabled"),
        ("ATTACH '/tmp/other.duckdb' AS other", "file system operations are disabled"),
        ("SET enable_external_access = true", "configuration has been locked"),
        ("INSERT INTO published VALUES (9)", "read-only"),
        ("DROP TABLE published", "read-only"),
    ],
)
def test_the_dashboards_connection_reads_the_warehouse_and_nothing_else(live, statement, refusal):
    con = connect_read_only(live)
    try:
        assert cursor(con).execute("SELECT version FROM published").fetchall() == [(1,)]
        with pytest.raises(duckdb.Error, match=refusal):
            cursor(con).execute(statement)
    finally:
        con.close()
