"""The Board snapshots page under AppTest: frozen figures, the PDF, and frozen vs live."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest

from dashboard import data, ui
from etl.reporting import scorecard
from etl.warehouse.read_only import connect_read_only
from tests.app.test_pages import open_app, texts
from tests.conftest import invoke_cxkpi, write

LATE_ANSWERS = 400


@pytest.fixture(scope="module")
def moved_on(sample_db: Path, tmp_path_factory) -> Path:
    """October 2026 frozen, then 400 late detractors for October loaded and built."""
    folder = tmp_path_factory.mktemp("snapshots_page")
    db = folder / "cxkpi.duckdb"
    shutil.copyfile(sample_db, db)
    taken = invoke_cxkpi(
        "-q", "--db", str(db), "snapshot", "--month", "2026-10", "--by", "Board Sec"
    )
    assert taken.returncode == 0, taken.stderr
    late = "response_id,responded_at,customer_id,department_id,score\n" + "".join(
        f"LATE{i:05d},2026-10-30T12:00:00,CLATE{i},RET,0\n" for i in range(LATE_ANSWERS)
    )
    write(folder / "late", "nps_responses", late, "2026-10-late.csv")
    loaded = invoke_cxkpi("-q", "--db", str(db), "load", str(folder / "late"))
    assert loaded.returncode == 0, loaded.stderr
    yield db
    data.clear_cache()


def _figures(db: Path, snapshot_id: str = "2026-10-v1") -> tuple[float, float, str]:
    con = connect_read_only(db)
    try:
        frozen = con.execute(
            "SELECT value FROM snapshot_kpi_headlines WHERE department_id = 'ALL'"
            " AND month = DATE '2026-10-01' AND metric = 'nps' AND snapshot_id = $id",
            {"id": snapshot_id},
        ).fetchone()[0]
        live = con.execute(
            "SELECT value FROM kpi_headlines WHERE department_id = 'ALL' AND channel = 'all'"
            " AND month = DATE '2026-10-01' AND metric = 'nps'"
        ).fetchone()[0]
        sha = con.execute(
            "SELECT pdf_sha256 FROM board_snapshots WHERE snapshot_id = $id", {"id": snapshot_id}
        ).fetchone()[0]
    finally:
        con.close()
    data.clear_cache()
    return frozen, live, sha


def test_the_page_shows_the_frozen_figures_not_the_live_ones(moved_on, monkeypatch):
    frozen, live, _ = _figures(moved_on)
    assert ui.value("nps", frozen) != ui.value("nps", live)
    app = open_app(moved_on, monkeypatch, "board_snapshots")
    assert not app.exception, [e.message for e in app.exception]
    assert app.selectbox(key="snapshot").value == "2026-10-v1"
    assert "October 2026 · version 1" in app.selectbox(key="snapshot").format_func("2026-10-v1")
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["NPS"] == ui.value("nps", frozen)
    shown = texts(app)
    assert "frozen on" in shown and "by Board Sec" in shown
    assert "checksum matches the pack as written" in shown
    assert "Flags as frozen" in shown and "Department scorecard as frozen" in shown


def test_frozen_vs_live_names_the_late_file_and_the_figure_that_moved(moved_on, monkeypatch):
    frozen, live, _ = _figures(moved_on)
    app = open_app(moved_on, monkeypatch, "board_snapshots")
    assert "1 input file(s) were added, 0 replaced and 0 removed" in app.warning[0].value
    assert f"- added: {ui.plain('nps_responses/2026-10-late.csv')}" in texts(app)
    moved = next(d.value for d in app.dataframe if "Live today" in d.value.columns)
    organisation = moved[(moved["Department"] == "Organisation") & (moved["Metric"] == "NPS")]
    assert organisation["Frozen"].tolist() == [ui.value("nps", frozen)]
    assert organisation["Live today"].tolist() == [ui.value("nps", live)]
    assert (organisation["Live n"] - organisation["Frozen n"]).tolist() == [LATE_ANSWERS]
    assert set(moved["Department"]) == {"Organisation", "Retail Line"}


def test_the_pdf_offered_is_the_one_written(moved_on, monkeypatch):
    *_, sha = _figures(moved_on)
    app = open_app(moved_on, monkeypatch, "board_snapshots")
    buttons = [b.proto.label for b in app.get("download_button")]
    assert buttons == ["Board pack (PDF)"]

    assert hashlib.sha256(data.frozen_pack("2026-10-v1")).hexdigest() == sha


def test_without_snapshots_the_page_says_how_to_take_one(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "board_snapshots")
    assert not app.exception
    assert "cxkpi snapshot --month YYYY-MM" in app.info[0].value


def test_a_link_opens_the_snapshot_it_names_and_the_newest_is_the_default(
    moved_on, tmp_path, monkeypatch
):
    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(moved_on, db)
    again = invoke_cxkpi(
        "-q", "--db", str(db), "snapshot", "--month", "2026-10", "--out", str(tmp_path)
    )
    assert again.returncode == 0, again.stderr
    frozen, live, _ = _figures(db)
    assert _figures(db, "2026-10-v2")[0] == live
    newest = open_app(db, monkeypatch, "board_snapshots")
    assert newest.selectbox(key="snapshot").value == "2026-10-v2"
    assert newest.query_params["snapshot"] == "2026-10-v2"
    assert {m.label: m.value for m in newest.metric}["NPS"] == ui.value("nps", live)
    assert "No headline figure of October 2026 differs" in texts(newest)
    data.clear_cache()
    linked = open_app(db, monkeypatch, "board_snapshots", snapshot="2026-10-v1")
    assert linked.selectbox(key="snapshot").value == "2026-10-v1"
    assert {m.label: m.value for m in linked.metric}["NPS"] == ui.value("nps", frozen)
    data.clear_cache()


def test_the_page_and_the_pack_show_the_same_scorecard(moved_on, monkeypatch):
    """One definition: the page's scorecard sections and columns are the pack's."""
    app = open_app(moved_on, monkeypatch, "board_snapshots")
    frames = [d.value for d in app.dataframe if "Live today" not in d.value.columns]
    on_page = [[c for c in frame.columns if c not in ("Department", "Verdict")] for frame in frames]
    con = connect_read_only(moved_on)
    html_path = con.execute("SELECT html_path FROM board_snapshots").fetchone()[0]
    con.close()
    html = Path(html_path).read_text()
    card = re.search(
        r'<section id="s\d+">\s*<h2>Department scorecard</h2>.*?</section>', html, re.DOTALL
    ).group(0)
    in_pack = [
        [h for h in re.findall(r'<th class="num">(.*?)</th>', header)]
        for header in re.findall(r"<tr><th>Department</th>(.*?)</tr>", card, re.DOTALL)
    ]
    assert on_page == [[ui.sentence_case(h) for h in headers] for headers in in_pack]
    assert on_page == [
        [ui.sentence_case(h) for h in scorecard.columns(f)]
        for f in ("frontline", "back_office", "support")
    ]
    # The watermelon is shown by its own evidence, on the page as in the pack.
    back = frames[1]
    claims = back[back["Department"] == "Claims Processing"].iloc[0]
    assert claims["Verdict"] == "watermelon"
    kept = str(claims["Promises kept on cases held"])
    assert not kept.startswith("not available")
    assert kept.split(" (n = ")[0] in card


def test_a_snapshots_tables_read_like_a_product(moved_on, monkeypatch):
    """The sample has no snapshot: this warehouse has one, and figures that moved since."""
    from tests.app.test_tables import problems

    app = open_app(moved_on, monkeypatch, "board_snapshots")
    assert len(app.dataframe) >= 3, "the scorecard's sections and the figures that moved"
    found = {i: problems(frame.value) for i, frame in enumerate(app.dataframe)}
    assert not {i: p for i, p in found.items() if p}, found


def test_the_failure_demand_line_is_the_one_the_snapshot_froze(moved_on, tmp_path, monkeypatch):
    """Read from the frozen row, not the live view: a frozen share set apart in a copy is the
    one shown; a snapshot that froze none says it was taken before."""
    import duckdb

    from etl.reporting.sentences import failure_demand_sentence

    db = tmp_path / "cxkpi.duckdb"
    shutil.copyfile(moved_on, db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE snapshot_failure_demand_headline SET failure_share = 0.4321"
        " WHERE department_id = 'ALL' AND month = DATE '2026-10-01'"
    )
    row = con.sql(
        "SELECT * FROM snapshot_failure_demand_headline WHERE department_id = 'ALL'"
        " AND month = DATE '2026-10-01'"
    ).pl()
    con.close()
    sentence = failure_demand_sentence(row.row(0, named=True), "October 2026", "October 2025")
    assert "43.2% of contacts" in sentence
    app = open_app(db, monkeypatch, "board_snapshots")
    assert not app.exception, [e.message for e in app.exception]
    assert f"**Failure demand as frozen:** {ui.plain(sentence)}" in texts(app)
    data.clear_cache()
    con = duckdb.connect(str(db))
    con.execute("DELETE FROM snapshot_failure_demand_headline")
    con.close()
    app = open_app(db, monkeypatch, "board_snapshots")
    assert not app.exception
    shown = texts(app)
    assert "Failure demand as frozen" not in shown
    assert "taken before failure demand was frozen with the board figures" in shown
    data.clear_cache()
