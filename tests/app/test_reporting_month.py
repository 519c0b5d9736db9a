"""The overview headlines the reporting month, not a trailing month of stragglers."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from dashboard import data, ui
from tests.app.test_pages import open_app, texts


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


def _organisation(db: Path, month: str) -> tuple:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT nps, nps_n, fcr_rate, aht_seconds FROM organisation_month"
            " WHERE month = $m::DATE",
            {"m": f"{month}-01"},
        ).fetchone()
    finally:
        con.close()


def test_the_overview_headlines_october_while_november_holds_only_stragglers(
    straggler_db, monkeypatch
):
    app = open_app(straggler_db, monkeypatch)
    assert not app.exception, [e.message for e in app.exception]
    assert app.sidebar.select_slider[0].value[1] == "2026-10"
    october, november = (
        _organisation(straggler_db, "2026-10"),
        _organisation(straggler_db, "2026-11"),
    )
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["NPS"] == ui.value("nps", october[0]) != ui.value("nps", november[0])
    assert tiles["Handle time"] == ui.value("aht_seconds", october[3])
    assert f"n = {october[1]:,}" in app.caption[1].value
    assert "Tiles: Oct 2026" in texts(app)


def test_a_period_ending_in_the_straggler_month_marks_it_and_keeps_the_headline(
    straggler_db, monkeypatch
):
    app = open_app(straggler_db, monkeypatch, period=["Jan 2026", "Nov 2026"])
    assert not app.exception, [e.message for e in app.exception]
    october = _organisation(straggler_db, "2026-10")
    assert {m.label: m.value for m in app.metric}["NPS"] == ui.value("nps", october[0])
    (note,) = [i.value for i in app.info]
    assert note.startswith("Nov 2026 in progress: 71 contacts so far against about")
    assert note.endswith("The tiles show Oct 2026, the last complete month.")


def test_data_quality_says_no_source_is_behind_and_november_is_in_progress(
    straggler_db, monkeypatch
):
    app = open_app(straggler_db, monkeypatch, "data_quality")
    assert not app.exception, [e.message for e in app.exception]
    assert not app.warning
    assert [i.value for i in app.info][0].startswith("Nov 2026 in progress: 71 contacts")
