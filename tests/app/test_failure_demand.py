"""The Failure demand page under AppTest: its headline is the ledger's, its causes name real
cases of the department that caused them, and a department head sees only their own."""

from __future__ import annotations

import pytest

from dashboard import data
from etl.warehouse.access import Visibility
from etl.warehouse.read_only import connect_read_only
from tests.app.test_access import access_file, signed_in  # noqa: F401 (a fixture)
from tests.app.test_pages import open_app, texts


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


def _period(app):
    start, end = app.select_slider(key="period").value
    return f"{start}-01", f"{end}-01"


def test_the_headline_is_the_organisations_failure_demand_in_the_period(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "failure_demand")
    assert not app.exception, [e.message for e in app.exception]
    start, end = _period(app)
    con = connect_read_only(sample_db)
    try:
        contacts, failure = con.execute(
            "SELECT sum(contacts), sum(failure_contacts) FROM failure_demand_month"
            " WHERE department_id = 'ALL' AND month BETWEEN $s AND $e",
            {"s": start, "e": end},
        ).fetchone()
    finally:
        con.close()
    shown = texts(app)
    assert f"**{failure / contacts:.1%} of the contacts the organisation received" in shown
    assert f"{failure:,} of {contacts:,}" in shown
    assert "An operational proxy" in shown and "confusing bill" in shown
    assert f"n = {contacts:,} contacts in the period" in shown
    assert len(app.get("vega_lite_chart")) == 3  # share by reason, flows, ledger


def test_the_biggest_causes_are_cases_the_cause_really_failed(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "failure_demand")
    [causes] = [d.value for d in app.dataframe if "Example cases" in d.value.columns]
    top = causes.iloc[0]
    assert (top["Caused by"], top["Reason"]) == ("Billing", "repeat")  # the planted story
    assert list(causes["Hours"]) == sorted(causes["Hours"], reverse=True)
    con = connect_read_only(sample_db)
    try:
        for _, row in causes.iterrows():
            for case in row["Example cases"].split(", "):
                names = con.execute(
                    "SELECT DISTINCT d.department_name FROM int_failure_demand AS f"
                    " JOIN stg_departments AS d ON d.department_id = f.cause_department_id"
                    " WHERE f.case_id = $c AND f.is_failure_demand",
                    {"c": case},
                ).fetchall()
                assert (row["Caused by"],) in names, (case, row["Caused by"])
    finally:
        con.close()


def test_a_department_head_sees_only_their_departments_failure_demand(
    sample_db,
    monkeypatch,
    access_file,  # noqa: F811
):
    app = signed_in(sample_db, monkeypatch, "head@example.com", "failure_demand")
    app.selectbox(key="department").set_value("BIL").run()
    assert not app.exception
    assert app.title[0].value == "Failure demand: Billing"
    [causes] = [d.value for d in app.dataframe if "Example cases" in d.value.columns]
    assert set(causes["Caused by"]) == {"Billing"}
    assert "Your access covers some departments" in texts(app)
    [ledger] = [d.value for d in app.dataframe if "Net (h)" in d.value.columns]
    assert list(ledger["Department"]) == ["Billing"]
    # What the matrix is drawn from, as this reader's connection gives it.
    con = connect_read_only(sample_db, Visibility(("BIL",), raw_records=False))
    try:
        ends = con.execute(
            "SELECT DISTINCT cause_department_id, department_id FROM failure_demand_flows"
        ).fetchall()
    finally:
        con.close()
    assert ends == [("BIL", "BIL")]


def test_a_back_office_is_shown_the_failure_demand_it_caused(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "failure_demand", department="Claims Processing")
    assert not app.exception, [e.message for e in app.exception]
    start, end = _period(app)
    con = connect_read_only(sample_db)
    try:
        caused = con.execute(
            "SELECT sum(caused_contacts) FROM failure_demand_month"
            " WHERE department_id = 'CLM' AND month BETWEEN $s AND $e",
            {"s": start, "e": end},
        ).fetchone()[0]
    finally:
        con.close()
    shown = texts(app)
    assert "**Claims Processing took no contacts itself**" in shown
    assert f"caused {caused:,} failure-demand contacts" in shown
    [causes] = [d.value for d in app.dataframe if "Example cases" in d.value.columns]
    assert set(causes["Caused by"]) == {"Claims Processing"}
    assert set(causes["Reason"]) == {"chase", "broken promise"}


def test_the_overview_headline_carries_the_failure_demand_share(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    assert not app.exception
    _, month = _period(app)
    con = connect_read_only(sample_db)
    try:
        share, n = con.execute(
            "SELECT failure_share, failure_share_n FROM failure_demand_headline"
            " WHERE department_id = 'ALL' AND month = $m",
            {"m": month},
        ).fetchone()
    finally:
        con.close()
    headline = app.markdown[0].value
    assert f"Failure demand was {share:.1%} of contacts (all channels)" in headline
    assert f"(n = {n:,})" in headline


def test_the_ledger_sets_the_hours_each_department_caused_for_others_against_those_it_absorbed(
    sample_db, monkeypatch
):
    app = open_app(sample_db, monkeypatch, "failure_demand")
    assert not app.exception, [e.message for e in app.exception]
    con = connect_read_only(sample_db)
    try:
        rows = con.execute(
            "SELECT department_name, round(caused_elsewhere_hours), round(absorbed_hours),"
            " round(net_hours_caused), caused_elsewhere_contacts, absorbed_contacts"
            " FROM failure_demand_ledger WHERE contacts > 0 OR caused_elsewhere_contacts > 0"
            " ORDER BY net_hours_caused DESC, department_name"
        ).fetchall()
        first, last = con.execute("SELECT first_month, last_month FROM int_value_window").fetchone()
    finally:
        con.close()
    [ledger] = [d.value for d in app.dataframe if "Net (h)" in d.value.columns]
    shown = [
        (r["Department"], r["Caused (h)"], r["Absorbed (h)"], r["Net (h)"],
         r["Contacts caused"], r["Contacts absorbed"])
        for _, r in ledger.iterrows()
    ]  # fmt: skip
    assert shown == [tuple(int(v) if isinstance(v, float) else v for v in r) for r in rows]
    assert shown[0][0] == "Claims Processing"  # the planted back office that others pay for
    assert ledger["Cost caused"].str.startswith("€").all()  # the sample loads workforce cost
    moved = sum(r[4] for r in rows)
    text = texts(app)
    assert f"Over the last 12 months ({first:%b %Y} to {last:%b %Y}" in text
    assert f"n = {moved:,} contacts crossing between departments" in text
