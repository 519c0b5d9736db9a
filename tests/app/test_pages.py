"""Every dashboard page under Streamlit's AppTest: runs, shows what it must, reacts to filters."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data, ui
from etl.contract.metrics import METRICS
from etl.contract.sources import SOURCES
from etl.warehouse.models import discover
from etl.warehouse.read_only import connect_read_only

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"
PAGES = {
    "overview": "Customer experience: the organisation",
    "conflicts": "KPI conflicts: the organisation",
    "departments": "Departments and customer value",
    "failure_demand": "Failure demand: the organisation",
    "employee_voice": "Employee voice: the organisation",
    "customers_words": "Customers' words: the organisation",
    "initiatives": "Initiatives: lasting or fading",
    "data_quality": "Data quality",
    "sql_workbench": "SQL workbench",
    "board_snapshots": "Board snapshots",
}


def test_the_page_list_is_one_list_with_a_file_per_page():
    """etl/contract/pages.py lists the pages; the navigation, the access file's names and these
    tests follow it, and each page is a file of its name."""
    from etl.contract import pages
    from etl.warehouse import access

    files = sorted(p.stem for p in (APP.parent / "app_pages").glob("*.py"))
    assert sorted(pages.PAGE_NAMES) == files
    assert access.PAGES == pages.PAGE_NAMES
    assert tuple(PAGES) == pages.PAGE_NAMES


def open_app(db: Path, monkeypatch, page: str = "overview", **query: str | list[str]) -> AppTest:
    """The dashboard on db, run once on page with the given URL query parameters."""
    monkeypatch.setenv("CXKPI_DB", str(db))
    app = AppTest.from_file(str(APP), default_timeout=120)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    if page != "overview":
        app.switch_page(f"app_pages/{page}.py").run()
    return app


def texts(app: AppTest) -> str:
    """Every piece of text the page shows, joined."""
    kinds = ("title", "subheader", "markdown", "caption", "info", "success", "warning", "error")
    return "\n".join(str(e.value) for kind in kinds for e in getattr(app, kind))


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    """The dashboard keeps its connection open; later tests open the file another way."""
    yield
    data.clear_cache()


@pytest.fixture
def reader(sample_db: Path):
    """A connection opened the way the dashboard opens one."""
    con = connect_read_only(sample_db)
    yield con
    con.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, **params):
    """The single value of a query."""
    return con.execute(sql, params).fetchall()[0][0]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_with_its_title_and_no_exception(sample_db, monkeypatch, page):
    app = open_app(sample_db, monkeypatch, page)
    assert not app.exception, [e.message for e in app.exception]
    assert app.title[0].value == PAGES[page]
    assert not app.warning or page == "data_quality"


def test_overview_tiles_show_the_latest_month_of_department_month(sample_db, reader, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    latest = one(reader, "SELECT max(month) FROM organisation_month")
    row = reader.execute(
        "SELECT nps, nps_n, nps_ci_low, fcr_rate, aht_seconds FROM organisation_month"
        " WHERE month = $m",
        {"m": latest},
    ).fetchall()[0]
    tiles = {m.label: m.value for m in app.metric}
    assert list(tiles) == [
        "NPS",
        "First-contact resolution",
        "Promises kept",
        "Handle time",
        "Occupancy",
        "Empowerment",
    ]
    assert tiles["NPS"] == ui.value("nps", row[0])
    assert tiles["First-contact resolution"] == ui.value("fcr_rate", row[3])
    assert tiles["Handle time"] == ui.value("aht_seconds", row[4])
    nps_caption = app.caption[1].value
    assert f"n = {row[1]:,}" in nps_caption and f"95% interval {row[2]:+.1f}" in nps_caption


def test_each_tile_has_its_definition_as_help(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    nps = app.metric[0].proto.help
    assert METRICS["nps"].definition in nps and "Higher is better" in nps
    assert METRICS["aht_seconds"].definition in app.metric[3].proto.help


def test_choosing_a_department_and_channel_changes_the_figures(sample_db, reader, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    app.selectbox(key="department").set_value("BIL").run()
    app.selectbox(key="channel").set_value("phone").run()
    assert app.title[0].value == "Customer experience: Billing"
    latest = one(reader, "SELECT max(month) FROM organisation_month")
    # Independent of the marts: the mean handle time of Billing's phone contacts, from raw rows.
    aht = one(
        reader,
        "SELECT avg(handle_seconds) FROM raw_interactions WHERE department_id = 'BIL'"
        " AND channel = 'phone' AND date_trunc('month', started_at) = $m",
        m=latest,
    )
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["Handle time"] == ui.value("aht_seconds", aht)
    occupancy = one(
        reader,
        "SELECT occupancy FROM department_month WHERE department_id = 'BIL' AND month = $m",
        m=latest,
    )
    assert tiles["Occupancy"] == ui.value("occupancy", occupancy)
    assert "all channels (no channel in its source)" in app.caption[5].value


def test_a_url_reproduces_the_view(sample_db, reader, monkeypatch):
    app = open_app(
        sample_db,
        monkeypatch,
        department="Billing",
        channel="Chat",
        period=["Jan 2025", "Jun 2025"],
    )
    assert app.title[0].value == "Customer experience: Billing"
    assert app.selectbox(key="channel").value == "chat"
    assert app.select_slider(key="period").value == ("2025-01", "2025-06")
    assert "Tiles: Jun 2025, the chat channel" in app.caption[0].value
    nps_n = one(
        reader,
        "SELECT n FROM metric_channel_month WHERE department_id = 'BIL' AND channel = 'chat'"
        " AND metric = 'nps' AND month = DATE '2025-06-01'",
    )
    assert app.caption[1].value.startswith(f"n = {nps_n:,}")


def test_findings_open_their_evidence_with_the_department_selected(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    buttons = [b for b in app.button if b.label == "See the evidence"]
    assert len(buttons) == 5
    headlines = [m.value for m in app.markdown if m.value.startswith("**") and "  \n" in m.value]
    watermelon = next(
        i for i, h in enumerate(headlines) if ui.plain("Watermelon: Claims Processing") in h
    )
    buttons[watermelon].click().run()
    assert app.title[0].value == "Departments and customer value"
    assert app.selectbox(key="department").value == "CLM"
    assert "Claims Processing: watermelon." in texts(app)


def test_a_conflict_finding_opens_its_pair(sample_db, reader, monkeypatch):
    # The first finding is Billing's drive, which also shows through the organisation's totals.
    p, o = reader.execute(
        "SELECT productivity_metric, outcome_metric FROM findings WHERE rank = 1"
    ).fetchone()
    app = open_app(sample_db, monkeypatch)
    next(b for b in app.button if b.label == "See the evidence").click().run()
    assert app.title[0].value == "KPI conflicts: Billing"
    assert app.selectbox(key="pair").value == f"{p}:{o}"
    assert app.error[0].value.startswith("**Flagged.** In Billing,")


def test_an_organisation_flag_says_whose_conflict_shows_through(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "conflicts", pair="handle time vs NPS")
    assert app.title[0].value == "KPI conflicts: the organisation"
    assert app.error[0].value.startswith(
        "**Flagged. One department's, through the totals.** Across the organisation, between"
    )
    assert "this is Billing's conflict showing through the totals" in app.error[0].value


def test_a_flagged_pair_opens_with_its_explanation(sample_db, reader, monkeypatch):
    app = open_app(
        sample_db, monkeypatch, "conflicts", department="Billing", pair="contacts per hour vs NPS"
    )
    explanation = one(
        reader,
        "SELECT explanation FROM kpi_conflicts WHERE department_id = 'BIL'"
        " AND productivity_metric = 'contacts_per_hour' AND outcome_metric = 'nps'",
    )
    assert app.error[0].value == f"**Flagged.** {explanation}"
    flagged = one(
        reader, "SELECT count(*) FROM kpi_conflicts WHERE department_id = 'BIL' AND flagged"
    )
    assert f"All {flagged} flagged pairs" in texts(app)


def test_small_engagement_groups_are_suppressed_never_shown(sample_db, reader, monkeypatch):
    small = reader.execute(
        "SELECT d.department_name, e.wave FROM ex_cx_linkage e JOIN department_value d"
        " USING (department_id) WHERE e.responses < 5 ORDER BY e.wave DESC LIMIT 1"
    ).fetchall()
    assert small, "the sample plants a department with too few survey answers"
    name, wave = small[0]
    app = open_app(
        sample_db,
        monkeypatch,
        "employee_voice",
        department=name,
        period=["Nov 2024", "Oct 2026"],
    )
    table = app.dataframe[0].value
    row = table[table["Wave"] == ui.month_label(wave)].iloc[0]
    assert row["Empowerment"] == "suppressed"
    assert row["eNPS"] == "suppressed"


def test_a_wave_withheld_beside_a_smaller_group_says_so(sample_db, reader, monkeypatch):
    withheld = reader.execute(
        "SELECT d.department_name, e.wave FROM ex_cx_linkage e JOIN department_value d"
        " USING (department_id) WHERE e.responses >= 5 AND e.empowerment_index IS NULL"
        " AND e.enps IS NULL ORDER BY e.wave DESC LIMIT 1"
    ).fetchall()
    assert withheld, "the sample has a wave withheld beside a smaller group's"
    name, wave = withheld[0]
    app = open_app(
        sample_db, monkeypatch, "employee_voice", department=name, period=["Nov 2024", "Oct 2026"]
    )
    table = app.dataframe[0].value
    row = table[table["Wave"] == ui.month_label(wave)].iloc[0]
    assert row["Empowerment"] == "withheld" and row["eNPS"] == "withheld"


def test_a_back_office_shows_the_nps_of_the_cases_it_held(sample_db, reader, monkeypatch):
    explanation = one(
        reader,
        "SELECT explanation FROM ex_cx_linkage WHERE department_id = 'ACC' ORDER BY wave DESC",
    )
    app = open_app(
        sample_db,
        monkeypatch,
        "employee_voice",
        department="Account Maintenance",
        period=["Nov 2024", "Oct 2026"],
    )
    assert app.info[0].value == explanation and "the NPS of the cases it held" in explanation
    columns = list(app.dataframe[0].value.columns)
    assert "Held-case NPS after" in columns and "First-contact resolution after" not in columns


@pytest.fixture(scope="module")
def late_db(sample_db: Path, tmp_path_factory) -> Path:
    """The sample after a board snapshot published October's wave, then late files: three
    answers to that wave, and two NPS answers of which one is out of range (one rebuild)."""
    from datetime import date

    from etl.warehouse.published_waves import publish_waves
    from tests.conftest import invoke_cxkpi, write

    folder = tmp_path_factory.mktemp("late")
    db = folder / "late.duckdb"
    shutil.copyfile(sample_db, db)
    con = duckdb.connect(str(db))
    publish_waves(con, "2026-10-v1", date(2026, 10, 1))
    con.close()
    write(
        folder / "late",
        "engagement_responses",
        "response_id,wave,department_id,enps_score\n"
        + "".join(f"LATE-{i},2026-10-01,RET,0\n" for i in range(3)),
        "2026-10-late.csv",  # a new file: one named like a sample file would replace it
    )
    write(
        folder / "late",
        "nps_responses",
        "response_id,responded_at,score\nLATE-1,2026-10-05T09:00:00,11\nLATE-2,2026-10-05,9\n",
        "2026-10-late.csv",
    )
    loaded = invoke_cxkpi("-q", "--db", str(db), "load", str(folder / "late"))
    assert loaded.returncode == 1, loaded.stdout  # the out-of-range answer is quarantined
    return db


def test_data_quality_lists_quarantined_rows_with_the_fix(late_db, monkeypatch):
    app = open_app(late_db, monkeypatch, "data_quality")
    assert "1 rows are in quarantine, in 1 file(s)." in texts(app)
    problems = app.dataframe[1].value
    assert problems.iloc[0]["Rule"] == "range" and problems.iloc[0]["Column"] == "score"
    assert "check the scale" in problems.iloc[0]["Fix"]


@pytest.mark.parametrize("page", PAGES)
def test_without_a_warehouse_every_page_says_what_to_run(tmp_path, monkeypatch, page):
    app = open_app(tmp_path / "none.duckdb", monkeypatch, page)
    assert not app.exception
    assert "cxkpi demo" in app.warning[0].value


def test_a_missing_view_says_to_build(sample_copy, monkeypatch):
    con = duckdb.connect(str(sample_copy))
    con.execute("DROP TABLE findings")
    con.close()
    app = open_app(sample_copy, monkeypatch)
    assert not app.exception
    assert "cxkpi build" in app.warning[0].value and "findings" in app.warning[0].value


def test_page_code_never_mentions_raw_or_staging_tables():
    models = discover()
    hidden = {s.raw_table for s in SOURCES.values()} | {"meta_load_runs", "meta_quarantine"}
    hidden |= {
        name for name, m in models.items() if m.layer == "staging" or name.startswith("int_")
    }
    for path in (ROOT / "dashboard").rglob("*.py"):
        words = set(re.findall(r"\b[a-z_]+\b", path.read_text()))
        assert not words & hidden, (path, words & hidden)


def test_the_dashboard_reads_only_documented_marts_and_the_metric_registry():
    # data.py's own reads (its SQL in capitals), and the named queries in sql/queries that it
    # and the board pack run (lower case, as the models).
    sql = (ROOT / "dashboard" / "data.py").read_text()
    read = set(re.findall(r"(?:FROM|JOIN) ([a-z_]+)\b(?!\.)", sql))
    ctes = set(re.findall(r"\b([a-z_]+) AS \(SELECT", sql))
    for path in (ROOT / "sql" / "queries").glob("*.sql"):
        text = re.sub(r"--[^\n]*", "", path.read_text())  # not the comments
        read |= set(re.findall(r"\b(?:from|join) ([a-z_]+)\b(?!\.)", text))
        ctes |= set(re.findall(r"\b([a-z_]+) as \(\s*select", text))
    read -= ctes  # common table expressions
    assert {"snapshot_kpi_conflicts", "kpi_conflict_pairs", "initiative_lifts"} <= read
    models = discover()
    marts = {name for name, m in models.items() if m.layer in ("marts", "analyses", "snapshots")}
    # duckdb_tables(): whether a snapshot has been taken yet (the table appears with the first).
    allowed = marts | {"metric_definitions", "duckdb_tables"}
    assert read and read <= allowed, read - allowed


def test_initiatives_say_durable_or_faded_for_the_department(sample_db, reader, monkeypatch):
    faded = reader.execute(
        "SELECT i.initiative_name, d.department_name FROM initiative_effects i"
        " JOIN department_value d USING (department_id) WHERE NOT i.durable"
    ).fetchall()
    assert faded, "the sample plants a fading initiative"
    name, department = faded[0]
    app = open_app(sample_db, monkeypatch, "initiatives", department=department)
    assert [e.value.split("**")[1] for e in app.error] == [name]
    assert "**faded**" in app.error[0].value and not app.success
    quiet = open_app(sample_db, monkeypatch, "initiatives", department="Quality Assurance")
    assert "No initiatives in Quality Assurance" in quiet.info[0].value


def test_initiatives_speak_in_units_with_n_and_name_each_once(sample_db, reader, monkeypatch):
    """Shares in %, their lifts in points, seconds as s; departments by name; every level with
    its n; the name once per box; no None/NaN and no statistics words outside "How we know"."""
    rows = reader.execute(
        "SELECT initiative_name, department_id, department_name FROM initiative_results"
    ).fetchall()
    app = open_app(sample_db, monkeypatch, "initiatives")
    boxes = [e.value for kind in ("success", "error", "info") for e in getattr(app, kind)]
    assert len(boxes) == len(rows)
    for name, code, department in rows:
        (box,) = [b for b in boxes if b.startswith(f"**{name}**")]
        assert box.count(name) == 1, box
        assert f"· {department} ·" in box and f"({code}" not in box, box
        assert re.search(r"before: [^;]*\(\d+ months, n = [\d,]+\)", box, re.I), box
    (how,) = [e for e in app.expander if e.label == "How we know"]
    method = "\n".join(m.value for m in how.markdown)
    assert "95% interval" in method
    shown = texts(app).replace(method, "")
    assert not re.search(r"\d\.\d{4}", shown), "raw fractions on the page"
    assert not re.search(r"welch|p = |t interval|degrees of freedom", shown, re.I)
    assert re.search(r"\d\.\d% \(", shown) and re.search(r"\d s \(", shown), shown
    (table,) = [d.value for d in app.dataframe[:1]]
    cells = [str(c) for column in table.columns for c in table[column]]
    assert not [c for c in cells if c in ("None", "nan", "NaN", "")], cells
    assert not [c for c in cells if re.fullmatch(r"-?\d\.\d{3,}", c)], cells
    assert set(rows[0][2:]) <= set(table["Department"])
    assert "Lift after 3-6 months" in table.columns
    assert any(c.endswith(" pts") for c in table["Lift after 3-6 months"])


def test_initiatives_say_when_a_lift_may_be_a_trend_the_conflicts_page_sees(
    sample_db, reader, monkeypatch
):
    """The handle-time drive's lift is Billing's steady fall the KPI conflicts page flags over
    every month: the page says the trend was under way before the start."""
    ((name, metric, explains),) = reader.execute(
        "SELECT initiative_name, metric_label, trend_explains FROM initiative_results"
        " WHERE conflict_outcome IS NOT NULL"
    ).fetchall()
    assert explains
    app = open_app(sample_db, monkeypatch, "initiatives")
    (box,) = [e.value for e in app.error if e.value.startswith(f"**{name}**")]
    assert f"{metric} was already falling before the start" in box
    assert "KPI conflicts page" in box
    others = [e.value for e in app.error if not e.value.startswith(f"**{name}**")]
    assert not [b for b in others + [e.value for e in app.success] if "Mind the trend" in b]


def test_data_quality_says_when_a_published_wave_holds_back_late_answers(late_db, monkeypatch):
    app = open_app(late_db, monkeypatch, "data_quality")
    shown = [i.value for i in app.info]
    assert any(
        "**engagement_responses**" in text
        and "the wave of Oct 2026, published in a board snapshot, keeps its published figures:"
        " 3 answers loaded since are not counted"
        in text
        for text in shown
    ), shown


def test_a_flagged_conflict_links_to_what_drives_its_departments_nps(
    sample_db, reader, monkeypatch
):
    app = open_app(
        sample_db, monkeypatch, "conflicts", department="Billing", pair="contacts per hour vs NPS"
    )
    headline = one(
        reader, "SELECT headline FROM nps_drivers WHERE department_id = 'BIL' AND costs_most"
    )
    assert headline in [c.value for c in app.caption]
    (link,) = [b for b in app.button if b.label == "See what drives its customers' NPS"]
    link.click().run()
    assert app.title[0].value == "Departments and customer value"
    assert app.selectbox(key="department").value == "BIL"
    assert headline in [m.value for m in app.markdown]


def test_a_departments_verdict_links_down_to_its_drivers(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "departments", department="Claims Processing")
    assert "[See what drives its customers' NPS](#what-moves-nps)" in [
        m.value for m in app.markdown
    ]
    assert any(s.value == "What moves its customers' NPS" for s in app.subheader)
