"""Exports in the shapes real systems write, loaded and built as a user would: a ticket log with
a status and no close time, a yes/no "would recommend", contacts and answers from a web form
or an app. Every expected figure is counted here from the rows the test writes."""

from __future__ import annotations

import math
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from tests.conftest import invoke_cxkpi, write

DEPARTMENTS = """department_id,name,function,headcount
CMP,Complaints desk,back_office,6
DIG,Digital sales,frontline,4
"""
NOT_AVAILABLE = "not available: no data for this metric in the warehouse"


def cxkpi(db: Path, *args: str, code: int = 0) -> str:
    """Run cxkpi on the warehouse; code 1 when a row is quarantined."""
    result = invoke_cxkpi("--quiet", "--db", str(db), *args)
    assert result.returncode == code, result.stdout + result.stderr
    return result.stdout + result.stderr


def rows(db: Path, sql: str, **params) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """A warehouse holding the two departments and nothing else."""
    warehouse = tmp_path / "w.duckdb"
    cxkpi(warehouse, "load", str(write(tmp_path / "ref", "departments", DEPARTMENTS, "d.csv")))
    return warehouse


# --- a complaints log: Solved / Closed / Open / Pending, no close time -----------------------

COMPLAINTS_PROFILE = """\
source: case_tasks
columns:
  task_id: "Ticket #"
  case_id: "Ticket #"
  department_id: {constant: CMP}
  opened_at:
    timestamp: {date: Date, date_format: "%d-%m-%y", time: Time, time_format: "%I:%M:%S %p"}
  status:
    column: Status
    ignore_case: true
    values: {Solved: closed, Closed: closed, Open: open, Pending: open}
"""
STATUSES = ("Solved", "Closed", "Open", "solved", "Pending", "Closed", "Solved")


def complaints() -> list[tuple[str, datetime, str]]:
    """Tickets over three months: (ticket, filed at, status as the log writes it)."""
    start = datetime(2015, 4, 1, 9, 30)
    return [
        (f"T{k:04d}", start + timedelta(days=3 * k, hours=k % 7), STATUSES[k % len(STATUSES)])
        for k in range(29)
    ]


def test_a_complaints_log_with_a_status_and_no_close_time_gives_volumes_and_backlog(tmp_path, db):
    tickets = complaints()
    export = tmp_path / "complaints.csv"
    export.write_text(
        "Ticket #,Customer Complaint,Date,Time,Received Via,Status\n"
        + "".join(
            f"{t},Billing,{at:%d-%m-%y},{at:%I:%M:%S %p},Internet,{status}\n"
            for t, at, status in tickets
        )
    )
    profile = tmp_path / "complaints.yml"
    profile.write_text(COMPLAINTS_PROFILE)
    assert "0 quarantined" in cxkpi(db, "load", "--profile", str(profile), str(export))

    months = sorted({date(at.year, at.month, 1) for _, at, _ in tickets})
    opened = {m: sum(date(at.year, at.month, 1) == m for _, at, _ in tickets) for m in months}
    still_open = {
        m: sum(date(at.year, at.month, 1) == m and s in ("Open", "Pending") for _, at, s in tickets)
        for m in months
    }
    found = rows(
        db,
        "SELECT month, tasks_opened, tasks_opened_n, open_tasks, open_tasks_n, task_sla_met_rate,"
        " task_sla_met_rate_note, case_resolution_hours, case_resolution_hours_note"
        " FROM department_month WHERE department_id = 'CMP' ORDER BY month",
    )
    assert [r[0] for r in found] == months
    for month, tasks, tasks_n, backlog, backlog_n, sla, sla_note, hours, hours_note in found:
        assert (tasks, tasks_n) == (opened[month], opened[month])
        assert (backlog, backlog_n) == (still_open[month], opened[month])
        assert (sla, sla_note, hours, hours_note) == (None, NOT_AVAILABLE, None, NOT_AVAILABLE)
    # The department with no rows at all still has its months, saying why it has no figures.
    other = rows(
        db, "SELECT count(*), count(tasks_opened) FROM department_month WHERE department_id = 'DIG'"
    )
    assert other == [(len(months), 0)]
    organisation = rows(db, "SELECT sum(tasks_opened), sum(open_tasks) FROM organisation_month")
    assert organisation == [(len(tickets), sum(s in ("Open", "Pending") for *_, s in tickets))]


def test_a_task_closed_without_a_close_time_counts_in_no_duration(tmp_path, db):
    # t1 met its SLA; t2 closed (by status) with no close time: whether in time is not known;
    # t3 is open and overdue: missed; t4 is open by its status but has a close time: which is
    # wrong cannot be told, so it is quarantined. The contact on 2026-01-20 sets the end of data.
    tasks = (
        "task_id,case_id,department_id,opened_at,closed_at,sla_hours,status\n"
        "t1,K1,CMP,2026-01-02T00:00:00,2026-01-02T10:00:00,24,closed\n"
        "t2,K2,CMP,2026-01-02T00:00:00,,24,closed\n"
        "t3,K3,CMP,2026-01-02T00:00:00,,24,open\n"
        "t4,K4,CMP,2026-01-02T00:00:00,2026-01-03T00:00:00,24,open\n"
    )
    contacts = (
        "interaction_id,started_at,department_id,handle_seconds,case_id\n"
        "c1,2026-01-01T09:00:00,DIG,300,K1\n"
        "c2,2026-01-01T09:00:00,DIG,300,K2\n"
        "c3,2026-01-20T09:00:00,DIG,300,K9\n"
    )
    inbox = tmp_path / "inbox"
    write(inbox, "case_tasks", tasks)
    write(inbox, "interactions", contacts)
    out = cxkpi(db, "load", str(inbox), code=1)
    assert "4 read, 3 loaded, 1 quarantined" in out, out
    assert rows(db, 'SELECT row_number, "column", rule, message FROM quarantine') == [
        (4, "closed_at", "empty_when", "closed_at must be empty when status is open")
    ]
    assert rows(
        db,
        "SELECT task_sla_met_rate, task_sla_met_rate_n, tasks_opened, open_tasks"
        " FROM department_month WHERE department_id = 'CMP' AND month = DATE '2026-01-01'",
    ) == [(1 / 2, 2, 3, 1)]
    # K1's task closed at 10:00 after its 09:00 contact: resolved; K2's closed at a time not
    # known: done, but with no resolution time (neither open nor timed).
    assert rows(
        db,
        "SELECT case_id, open_tasks, untimed_tasks, resolved_at, resolution_hours FROM int_cases"
        " WHERE case_id IN ('K1', 'K2') ORDER BY case_id",
    ) == [("K1", 0, 0, datetime(2026, 1, 2, 10), 25.0), ("K2", 0, 1, None, None)]


# --- a yes/no "would recommend" --------------------------------------------------------------


def survey(answers: list[tuple[str | None, str | None, str]]) -> str:
    """A contract nps_responses file: (score, recommend, channel) per response, in January."""
    return "response_id,responded_at,department_id,channel,score,recommend\n" + "".join(
        f"R{i},2026-01-{1 + i % 28:02d}T10:00:00,DIG,{channel},{score or ''},{recommend or ''}\n"
        for i, (score, recommend, channel) in enumerate(answers)
    )


def test_a_yes_no_recommend_is_its_own_share_and_never_an_nps(tmp_path, db):
    answers = [(None, "1" if i % 5 else "0", "web" if i % 3 else "app") for i in range(95)]
    answers += [(None, "yes", "web"), (None, "no", "app")]
    write(tmp_path / "in", "nps_responses", survey(answers))
    cxkpi(db, "load", str(tmp_path / "in"))

    def share(channel: str | None) -> tuple[float, int, float]:
        picked = [r for _, r, c in answers if channel is None or c == channel]
        yes = sum(r in ("1", "yes") for r in picked)
        p, n = yes / len(picked), len(picked)
        return p, n, math.sqrt(p * (1 - p) / n)

    found = rows(
        db,
        "SELECT channel, value, n, standard_error FROM metric_channel_month"
        " WHERE department_id = 'DIG' AND metric = 'recommend_rate' AND month = DATE '2026-01-01'"
        " ORDER BY channel",
    )
    expected = [("all", *share(None)), ("app", *share("app")), ("web", *share("web"))]
    assert [(c, pytest.approx(v), n, pytest.approx(se)) for c, v, n, se in expected] == found
    # Only yes/no answers: NPS has nothing to count, and says so.
    assert rows(
        db,
        "SELECT nps, nps_n, nps_note, recommend_rate_n FROM department_month"
        " WHERE department_id = 'DIG' AND month = DATE '2026-01-01'",
    ) == [(None, 0, NOT_AVAILABLE, len(answers))]


def test_a_response_may_carry_a_score_a_recommend_or_both_and_one_with_neither_is_quarantined(
    tmp_path, db
):
    both = [(str(i % 11), "1" if i % 4 else "0", "web") for i in range(30)]
    scores = [(str(10 - i), None, "phone") for i in range(6)]
    recommends = [(None, "0", "app") for _ in range(5)]
    answers = both + scores + recommends
    write(tmp_path / "in", "nps_responses", survey([*answers, (None, None, "web")]))
    out = cxkpi(db, "load", str(tmp_path / "in"), code=1)
    assert f"{len(answers) + 1} read, {len(answers)} loaded, 1 quarantined" in out, out
    assert rows(db, 'SELECT row_number, "column", rule FROM quarantine') == [
        (len(answers) + 1, "score, recommend, csat, effort", "at_least_one_of")
    ]
    scored = [int(s) for s, _, _ in answers if s is not None]
    nps = 100 * (sum(s >= 9 for s in scored) - sum(s <= 6 for s in scored)) / len(scored)
    said = [r for _, r, _ in answers if r is not None]
    assert rows(
        db,
        "SELECT nps, nps_n, recommend_rate, recommend_rate_n FROM department_month"
        " WHERE department_id = 'DIG' AND month = DATE '2026-01-01'",
    ) == [(pytest.approx(nps), len(scored), pytest.approx(said.count("1") / len(said)), len(said))]


# --- web forms and apps ----------------------------------------------------------------------


def test_contacts_and_answers_from_a_web_form_or_an_app_count_under_their_channel(tmp_path, db):
    handles = {"web": [120, 300, 240], "app": [90, 60], "phone": [600]}
    contacts = "interaction_id,started_at,department_id,handle_seconds,channel\n" + "".join(
        f"{channel}{k},2026-01-05T09:00:00,DIG,{seconds},{channel}\n"
        for channel, values in handles.items()
        for k, seconds in enumerate(values)
    )
    inbox = tmp_path / "inbox"
    write(inbox, "interactions", contacts)
    # A survey from a web shop's own form, with no contact in any export: offered too.
    answers = "response_id,responded_at,department_id,channel,recommend\n" + "".join(
        f"S{k},2026-01-06T10:00:00,DIG,web,1\n" for k in range(4)
    )
    answers += "S9,2026-01-06T10:00:00,DIG,app,0\n"
    write(inbox, "nps_responses", answers)
    out = cxkpi(db, "load", str(inbox))
    assert out.count("0 quarantined") == 2, out
    found = dict(
        rows(
            db,
            "SELECT channel, value FROM metric_channel_month WHERE department_id = 'DIG'"
            " AND metric = 'aht_seconds' AND channel <> 'all'",
        )
    )
    assert found == {c: pytest.approx(sum(v) / len(v)) for c, v in handles.items()}
    offered = rows(
        db,
        "SELECT value, label, detail FROM filter_values WHERE filter = 'channel'"
        " ORDER BY sort_order",
    )
    assert offered == [
        ("web", "Web", "3 contacts"),
        ("app", "App", "2 contacts"),
        ("phone", "Phone", "1 contacts"),
    ]


def test_a_channel_with_survey_answers_only_is_offered_after_those_with_contacts(tmp_path, db):
    inbox = tmp_path / "inbox"
    write(
        inbox,
        "interactions",
        "interaction_id,started_at,department_id,handle_seconds,channel\n"
        "c1,2026-01-05T09:00:00,DIG,300,phone\n",
    )
    write(
        inbox,
        "nps_responses",
        textwrap.dedent(
            """\
            response_id,responded_at,department_id,channel,recommend
            S1,2026-01-06T10:00:00,DIG,web,1
            S2,2026-01-06T10:00:00,DIG,web,0
            S3,2026-01-06T10:00:00,DIG,app,1
            """
        ),
    )
    cxkpi(db, "load", str(inbox))
    offered = rows(
        db, "SELECT value, detail FROM filter_values WHERE filter = 'channel' ORDER BY sort_order"
    )
    assert offered == [
        ("phone", "1 contacts"),
        ("web", "2 survey answers"),
        ("app", "1 survey answers"),
    ]


def test_a_warehouse_made_before_these_columns_takes_them_on_its_next_load(tmp_path, db):
    # As an earlier cxkpi made it: the raw tables without the columns added since.
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE raw_case_tasks DROP COLUMN status")
    con.execute("ALTER TABLE raw_nps_responses DROP COLUMN recommend")
    con.close()
    inbox = tmp_path / "inbox"
    write(
        inbox,
        "case_tasks",
        "task_id,case_id,department_id,opened_at,status\nt1,K1,CMP,2026-01-02T09:00:00,closed\n",
    )
    cxkpi(db, "load", str(inbox))
    assert rows(
        db, "SELECT tasks_opened, open_tasks FROM department_month WHERE department_id = 'CMP'"
    ) == [(1, 0)]
