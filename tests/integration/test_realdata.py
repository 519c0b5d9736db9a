"""Real exports in foreign shapes, loaded end to end through the shipped mapping profiles.

The files live in ../shared/realdata (beside the project, present in CI; never copied into
the repository). Without them the tests are skipped, saying where they were looked for.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from etl.warehouse.access import PAGES
from tests.conftest import invoke_cxkpi

ROOT = Path(__file__).resolve().parents[2]
REALDATA = ROOT.parent / "shared" / "realdata"
BANK = REALDATA / "technion_anonymous_bank_feb1999.tsv"
HR = REALDATA / "ibm_hr_emp_attrition.csv"
pytestmark = pytest.mark.skipif(
    not (BANK.exists() and HR.exists()), reason=f"the real exports are not in {REALDATA}"
)
BANK_DEPARTMENTS = """department_id,name,function,headcount
BANK-RETAIL,Retail banking line,frontline,8
BANK-ENGLISH,English-language line,frontline,1
BANK-INTERNET,Internet support,support,5
BANK-STOCKS,Stock exchange desk,frontline,2
BANK-PROSPECTS,Prospective customers,frontline,2
BANK-CALLBACK,Call-backs,frontline,1
"""
HR_DEPARTMENTS = """department_id,name,function,headcount
SAL,Sales,frontline,446
RND,Research & Development,back_office,961
HRS,Human Resources,support,63
"""
PERSONAL = ["EmployeeNumber", "Age", "Gender", "MaritalStatus", "MonthlyIncome", "JobRole"]


def warehouse(tmp_path: Path, departments: str) -> Path:
    reference = tmp_path / "departments.csv"
    reference.write_text(departments)
    db = tmp_path / "cxkpi.duckdb"
    loaded = invoke_cxkpi("-q", "--db", str(db), "load", str(reference))
    assert loaded.returncode == 0, loaded.stderr
    return db


def rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.fixture(scope="module")
def bank_db(tmp_path_factory) -> tuple[Path, str]:
    db = warehouse(tmp_path_factory.mktemp("bank"), BANK_DEPARTMENTS)
    run = invoke_cxkpi("-q", "--db", str(db), "load", "--profile", "technion_bank", str(BANK))
    return db, run


def test_the_bank_log_loads_answered_calls_and_counts_abandoned_ones(bank_db):
    db, run = bank_db
    # 85 answered calls with no handle time are quarantined, so the load exits 1.
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert "27162 read, 27077 loaded, 85 quarantined, 6182 set aside" in run.stdout
    (read, loaded, quarantined, filtered, reasons, profile) = rows(
        db,
        "SELECT rows_read, rows_loaded, rows_quarantined, rows_filtered, filtered, profile"
        " FROM load_runs WHERE source = 'interactions'",
    )[0]
    assert (read, loaded, quarantined, filtered) == (27_162, 27_077, 85, 6_182)
    assert json.loads(reasons) == {
        "abandoned (the caller hung up before an agent answered)": 5_904,
        "phantom call (no caller on the line)": 278,
    }
    assert profile.startswith("technion_bank@")
    # Every call of the log is accounted for: loaded, quarantined or set aside.
    with BANK.open() as handle:
        assert sum(1 for _ in handle) - 1 == 33_344 == read + filtered


def test_quarantined_calls_keep_the_row_the_bank_sent(bank_db):
    db, _ = bank_db
    problems = rows(db, 'SELECT row_number, "column", rule, raw_record FROM quarantine')
    assert Counter((c, r) for _, c, r, _ in problems) == {("handle_seconds", "range"): 85}
    lines = BANK.read_text().splitlines()
    header = lines[0].split("\t")
    for row_number, _, _, raw in problems[:10]:
        sent = dict(zip(header, lines[row_number].split("\t"), strict=True))
        assert json.loads(raw) == sent
        assert sent["outcome"] == "AGENT" and sent["ser_time"] == "0"


def test_the_bank_calls_are_mapped_as_the_profile_says(bank_db):
    db, _ = bank_db
    (calls, first, last, departments, agents, callers, phone) = rows(
        db,
        "SELECT count(*), min(started_at), max(started_at), count(DISTINCT department_id),"
        " count(agent_id), count(customer_id), bool_and(channel = 'phone')"
        " FROM raw_interactions",
    )[0]
    assert calls == 27_077 and phone
    with BANK.open() as handle:
        answered = [
            datetime.strptime(f"{r['date']} {r['vru_entry']}", "%y%m%d %H:%M:%S")
            for r in csv.DictReader(handle, delimiter="\t")
            if r["outcome"] == "AGENT" and r["ser_time"] != "0"
        ]
    assert (first, last) == (min(answered), max(answered))
    assert departments == 6
    assert rows(db, "SELECT count(*) FROM raw_interactions WHERE agent_id = 'NO_SERVER'") == [(0,)]
    assert rows(db, "SELECT count(*) FROM raw_interactions WHERE customer_id = '0'") == [(0,)]
    assert agents < calls and callers < calls


def _seconds(clock: str) -> int:
    hours, minutes, seconds = map(int, clock.split(":"))
    return hours * 3600 + minutes * 60 + seconds


def test_calls_that_end_past_midnight_keep_their_day_and_handle_time(bank_db):
    db, _ = bank_db
    with BANK.open() as handle:
        past_midnight = {
            f"{r['vru+line']}-{r['call_id']}": (r["date"], int(r["ser_time"]))
            for r in csv.DictReader(handle, delimiter="\t")
            if r["outcome"] == "AGENT"
            and r["ser_time"] != "0"
            and _seconds(r["ser_exit"]) < _seconds(r["ser_start"])
        }
    assert len(past_midnight) == 16
    ids = ", ".join(f"'{i}'" for i in past_midnight)
    stored = rows(
        db,
        "SELECT interaction_id, strftime(started_at, '%y%m%d'), handle_seconds"
        f" FROM raw_interactions WHERE interaction_id IN ({ids})",
    )
    assert {i: (day, handle) for i, day, handle in stored} == past_midnight


def test_loading_the_bank_log_again_changes_nothing(bank_db):
    db, _ = bank_db
    again = invoke_cxkpi("-q", "--db", str(db), "load", "--profile", "technion_bank", str(BANK))
    assert again.returncode == 0 and "unchanged" in again.stdout


@pytest.fixture(scope="module")
def hr_db(tmp_path_factory) -> tuple[Path, object]:
    db = warehouse(tmp_path_factory.mktemp("hr"), HR_DEPARTMENTS)
    run = invoke_cxkpi("-q", "--db", str(db), "load", "--profile", "ibm_hr_survey", str(HR))
    return db, run


def test_the_hr_export_loads_with_its_1_to_4_scales_converted(hr_db):
    db, run = hr_db
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1470 read, 1470 loaded, 0 quarantined" in run.stdout
    assert "26 personal column(s) dropped by the profile" in run.stdout
    with HR.open(encoding="utf-8-sig") as handle:
        sent = list(csv.DictReader(handle))
    involvement = Counter(r["JobInvolvement"] for r in sent)
    stored = dict(rows(db, "SELECT q_engaged, count(*) FROM raw_engagement_responses GROUP BY 1"))
    # 1-4 onto 1-5, rounded: 1 -> 1, 2 -> 2, 3 -> 4, 4 -> 5.
    assert stored == {
        1: involvement["1"],
        2: involvement["2"],
        4: involvement["3"],
        5: involvement["4"],
    }
    assert rows(db, "SELECT DISTINCT wave FROM raw_engagement_responses")[0][0].isoformat() == (
        "2026-10-01"
    )
    by_department = dict(
        rows(db, "SELECT department_id, count(*) FROM raw_engagement_responses GROUP BY 1")
    )
    assert by_department == {"SAL": 446, "RND": 961, "HRS": 63}


def test_no_personal_column_of_the_hr_export_reaches_the_warehouse(hr_db):
    db, _ = hr_db
    columns = {c.lower() for (c,) in rows(db, "SELECT column_name FROM duckdb_columns()")}
    assert not columns & {p.lower() for p in PERSONAL}
    extra = rows(db, "SELECT DISTINCT _extra FROM raw_engagement_responses")
    assert {tuple(json.loads(e)) for (e,) in extra} == {("q_job_satisfaction",)}
    # Response ids are the row in the export, not the employee number.
    ids = {i for (i,) in rows(db, "SELECT response_id FROM raw_engagement_responses")}
    assert ids == {f"IBM-{n}" for n in range(1, 1471)}
    with HR.open(encoding="utf-8-sig") as handle:
        numbers = [r["EmployeeNumber"] for r in csv.DictReader(handle)]
    assert numbers != [str(n) for n in range(1, 1471)]


@pytest.mark.parametrize("page", PAGES)
def test_the_dashboard_on_partial_real_data_says_not_available(bank_db, hr_db, monkeypatch, page):
    for db in (bank_db[0], hr_db[0]):
        monkeypatch.setenv("CXKPI_DB", str(db))
        data.clear_cache()
        app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=120).run()
        if page != "overview":
            app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, [e.value for e in app.exception]
        kinds = ("title", "subheader", "markdown", "caption", "info", "success", "warning", "error")
        shown = "\n".join(str(e.value) for kind in kinds for e in getattr(app, kind))
        if page == "overview" and db == bank_db[0]:
            assert "not available: no data for this metric in the warehouse" in shown
            assert "n = 27,077" in shown  # handle time, from the bank's own calls
        if page == "data_quality" and db == bank_db[0]:
            assert "85 rows are in quarantine" in shown
    data.clear_cache()
