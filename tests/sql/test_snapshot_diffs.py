"""sql/queries/flags_since.sql given a few rows: the one frozen-vs-live diff of flags and
verdicts that the dashboard shows for a snapshot and a new version's changes are made of."""

from __future__ import annotations

import duckdb
import pytest

from etl.warehouse.models import query

CONFLICTS = (
    "scope VARCHAR, department_id VARCHAR, department_name VARCHAR,"
    " productivity_metric VARCHAR, outcome_metric VARCHAR, flagged BOOLEAN, explanation VARCHAR"
)
VALUE = "department_id VARCHAR, department_name VARCHAR, verdict VARCHAR"


def _pair(department: str, outcome: str, flagged: bool, said: str) -> tuple:
    scope = "organisation" if department == "ALL" else "department"
    return (scope, department, department, "aht_seconds", outcome, flagged, said)


@pytest.fixture
def con():
    con = duckdb.connect(":memory:")
    con.execute(f"CREATE TABLE kpi_conflicts ({CONFLICTS})")
    con.execute(f"CREATE TABLE snapshot_kpi_conflicts (snapshot_id VARCHAR, {CONFLICTS})")
    con.execute(f"CREATE TABLE department_value ({VALUE})")
    con.execute(f"CREATE TABLE snapshot_department_value (snapshot_id VARCHAR, {VALUE})")
    frozen = [
        _pair("BIL", "nps", True, "BIL nps then"),  # still flagged: no change
        _pair("BIL", "fcr_rate", True, "BIL fcr then"),  # withdrawn since
        _pair("ALL", "nps", False, "ALL nps not flagged then"),  # flagged since
        _pair("CLM", "nps", False, "CLM nps not flagged"),  # never flagged
    ]
    live = [
        _pair("BIL", "nps", True, "BIL nps now"),
        _pair("BIL", "fcr_rate", False, "BIL fcr not flagged now"),
        _pair("ALL", "nps", True, "ALL nps now"),
        _pair("CLM", "nps", False, "CLM nps not flagged"),
        _pair("RET", "nps", True, "RET nps now"),  # a pair the snapshot did not have
    ]
    con.executemany("INSERT INTO snapshot_kpi_conflicts VALUES ('s1', ?, ?, ?, ?, ?, ?, ?)", frozen)
    # Another snapshot flagging everything: not the one asked about.
    con.executemany(
        "INSERT INTO snapshot_kpi_conflicts VALUES ('s0', ?, ?, ?, ?, ?, true, ?)",
        [p[:5] + p[6:] for p in live],
    )
    con.executemany("INSERT INTO kpi_conflicts VALUES (?, ?, ?, ?, ?, ?, ?)", live)
    con.executemany(
        "INSERT INTO snapshot_department_value VALUES (?, ?, ?, ?)",
        [
            ("s1", "BIL", "Billing", "watermelon"),
            ("s1", "CLM", "Claims", "neutral"),
            ("s0", "CLM", "Claims", "destroys_value"),
        ],
    )
    con.executemany(
        "INSERT INTO department_value VALUES (?, ?, ?)",
        [("BIL", "Billing", "destroys_value"), ("CLM", "Claims", "neutral")],
    )
    yield con
    con.close()


def test_flags_raised_withdrawn_and_verdicts_changed_since_a_snapshot(con):
    rows = con.execute(
        f"SELECT change, department_id, explanation, verdict_then, verdict_now, detail"
        f" FROM ({query('flags_since')})",
        {"id": "s1"},
    ).fetchall()
    assert rows == [
        # A withdrawn flag keeps the sentence it was flagged with.
        ("flag withdrawn", "BIL", "BIL fcr then", None, None, "BIL fcr then"),
        ("new flag", "ALL", "ALL nps now", None, None, "ALL nps now"),
        ("new flag", "RET", "RET nps now", None, None, "RET nps now"),
        (
            "verdict changed",
            "BIL",
            None,
            "watermelon",
            "destroys_value",
            "Billing: watermelon then, destroys_value now",
        ),
    ]


def test_nothing_changed_since_a_snapshot_of_todays_flags(con):
    con.execute("DELETE FROM snapshot_kpi_conflicts WHERE snapshot_id = 's1'")
    con.execute(
        "INSERT INTO snapshot_kpi_conflicts SELECT 's1', * FROM kpi_conflicts;"
        " UPDATE snapshot_department_value SET verdict = 'destroys_value'"
        " WHERE snapshot_id = 's1' AND department_id = 'BIL'"
    )
    assert con.execute(query("flags_since"), {"id": "s1"}).fetchall() == []
