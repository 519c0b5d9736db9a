"""Every metric formula, given a few raw rows, against values worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import duckdb
import pytest

from etl.warehouse.models import build
from etl.warehouse.publish import ensure_schema

JAN = date(2026, 1, 1)


def warehouse(**rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with two departments, the given raw rows, and every model built."""
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(
        "INSERT INTO raw_departments VALUES ('FL', 'Front', 'frontline', 9, 0, 'd', 1, NULL),"
        " ('BO', 'Back', 'back_office', 9, 0, 'd', 2, NULL)"
    )
    for source, values in rows.items():
        width = len(con.execute(f"SELECT * FROM raw_{source} LIMIT 0").description) - 4
        for number, row in enumerate(values, 1):
            padded = list(row) + [None] * (width - len(row))
            marks = ", ".join("?" for _ in padded)
            con.execute(
                f"INSERT INTO raw_{source} VALUES ({marks}, 0, 'f', ?, NULL)", [*padded, number]
            )
    build(con)
    return con


def metric(con, name: str, department: str = "FL", month: date = JAN):
    """(value, n, note) of a metric from the contract view department_month."""
    return con.execute(
        f"SELECT {name}, {name}_n, {name}_note FROM department_month"
        " WHERE department_id = $d AND month = $m",
        {"d": department, "m": month},
    ).fetchone()


def contact(
    i, at, handle=300, customer=None, case=None, resolved=None, due=None, done=None, department="FL"
):
    """A raw interactions row in contract column order."""
    return (i, at, department, handle, case, customer, "phone", "a1", 10, resolved, None, due, done)


def test_aht_is_the_mean_handle_time_with_contacts_as_n():
    con = warehouse(
        interactions=[
            contact("1", "2026-01-05 09:00", 100),
            contact("2", "2026-01-06 09:00", 200),
            contact("3", "2026-01-07 09:00", 600),
        ]
    )
    assert metric(con, "aht_seconds") == (300.0, 3, None)


def test_workforce_ratios():
    # Two agent-days: logged 480 + 240 = 720 min = 12 h; handling 360 + 120; schedule 480 + 480.
    con = warehouse(
        interactions=[contact(str(i), "2026-01-05 09:00") for i in range(6)],
        workforce=[
            ("2026-01-05", "a1", "FL", 480, 480, 360, 432, 60, 200.0),
            ("2026-01-06", "a2", "FL", 240, 480, 120, 240, 0, 100.0),
        ],
    )
    assert metric(con, "contacts_per_hour") == (6 / 12, 2, None)
    assert metric(con, "occupancy") == (480 / 720, 2, None)
    assert metric(con, "adherence") == (672 / 960, 2, None)
    assert metric(con, "cost_per_contact") == (300 / 6, 2, None)
    assert metric(con, "training_hours_per_fte") == (60 / 60 / 2, 2, None)


def test_task_sla_counts_late_and_overdue_open_tasks_as_missed_and_skips_pending_ones():
    con = warehouse(
        interactions=[contact("1", "2026-01-20 09:00")],
        case_tasks=[
            ("t1", "k", "BO", "2026-01-02 00:00", "2026-01-02 10:00", 24),  # met
            ("t2", "k", "BO", "2026-01-02 00:00", "2026-01-04 00:00", 24),  # closed late
            ("t3", "k", "BO", "2026-01-02 00:00", None, 24),  # open, overdue at as_of
            ("t4", "k", "BO", "2026-01-19 00:00", None, 48),  # open, not yet due: pending
            ("t5", "k", "BO", "2026-01-02 00:00", "2026-01-03 00:00", None),  # no SLA
        ],
    )
    assert metric(con, "task_sla_met_rate", "BO") == (1 / 3, 3, None)


def story(k: int) -> list[tuple]:
    """Six cases of four customers whose outcomes are known; k keeps copies apart."""
    return [
        contact(f"a1{k}", "2026-01-02 09:00", customer=f"A{k}", case=f"KA{k}", resolved=True),
        contact(f"b1{k}", "2026-01-02 09:00", customer=f"B{k}", case=f"KB{k}", resolved=True),
        contact(f"b2{k}", "2026-01-05 09:00", customer=f"B{k}", case=f"KB2{k}", resolved=True),
        contact(f"c1{k}", "2026-01-02 09:00", customer=f"C{k}", case=f"KC{k}", resolved=True),
        contact(f"c2{k}", "2026-01-10 10:00", customer=f"C{k}", case=f"KC2{k}", resolved=True),
        contact(f"d1{k}", "2026-01-03 09:00", customer=f"D{k}", case=f"KD{k}", resolved=False),
    ]


def test_fcr_and_repeat_contacts_follow_the_seven_day_rule():
    late = contact("z1", "2026-01-31 09:00", customer="Z", case="KZ", resolved=True)
    con = warehouse(interactions=[row for k in range(5) for row in story(k)] + [late])
    # Per story: KA yes; KB no (B is back 3 days later); KB2 yes; KC yes (C is back after
    # 8 days); KC2 yes; KD no (unresolved). z1's 7-day window is not over: left out.
    assert metric(con, "fcr_rate") == (pytest.approx(4 / 6), 30, None)
    # Per story only b1 is followed by a contact within 7 days: 1 of 6 contacts.
    assert metric(con, "repeat_contact_rate") == (pytest.approx(1 / 6), 30, None)


def test_promise_kept_needs_the_follow_up_done_by_its_due_time():
    due = "2026-01-10 12:00"
    rows = []
    for k in range(10):
        rows += [
            contact(f"1{k}", "2026-01-08 09:00", due=due, done="2026-01-10 11:00"),  # kept
            contact(f"2{k}", "2026-01-08 09:00", due=due, done="2026-01-11 09:00"),  # late
            contact(f"3{k}", "2026-01-08 09:00", due=due),  # never done: broken
            contact(f"4{k}", "2026-01-20 09:00", due="2026-02-20 09:00"),  # not due yet
            contact(f"5{k}", "2026-01-20 09:00"),  # no promise
        ]
    con = warehouse(interactions=rows)
    assert metric(con, "promise_kept_rate") == (pytest.approx(1 / 3), 30, None)


def test_case_resolution_is_the_median_hours_to_the_last_contact_or_task_closing():
    """Over the cases the first contact did not close: the single-contact cases (2 h each,
    the most) would make it the length of one call."""
    con = warehouse(
        interactions=[
            contact("1", "2026-01-05 00:00", 3600, case="K1"),
            contact("2", "2026-01-05 00:00", 3600, case="K2"),
            contact("3", "2026-01-06 00:00", 3600, case="K2"),
            contact("4", "2026-01-05 00:00", 3600, case="K3"),
        ]
        + [contact(f"x{i}", "2026-01-07 00:00", 7200, case=f"X{i}") for i in range(12)]
        + [
            contact(f"y{i}{k}", f"2026-01-{7 + k:02d} 00:00", 3600, case=f"Y{i}")
            for i in range(8)
            for k in (0, 1)
        ],
        case_tasks=[
            ("t1", "K3", "BO", "2026-01-05 01:00", "2026-01-09 00:00", 24),
            ("t2", "K1", "BO", "2026-01-05 01:00", None, 24),
        ],  # K1 still open
    )
    # Beyond one contact and resolved: K2 = 25 h, K3 = 96 h, Y0..Y7 = 25 h each -> median of
    # ten values is 25 h; X0..X11 (one contact, 2 h) are left out.
    assert metric(con, "case_resolution_hours") == (25.0, 10, None)


def adjusted_wald(promoters: int, detractors: int, n: int) -> tuple[float, float]:
    """The 95% adjusted-Wald NPS interval written out from Rocks (2016)."""
    p = (promoters + 0.75) / (n + 3)
    d = (detractors + 0.75) / (n + 3)
    half = 1.959963984540054 * math.sqrt((p + d - (p - d) ** 2) / (n + 3))
    return 100 * (p - d - half), 100 * (p - d + half)


def test_nps_with_its_adjusted_wald_interval():
    scores = [10] * 12 + [9] * 8 + [8] * 6 + [7] * 4 + [6] * 5 + [0] * 5
    con = warehouse(
        nps_responses=[
            (f"r{i}", "2026-01-10 10:00", None, None, "FL", "phone", s)
            for i, s in enumerate(scores)
        ]
    )
    low, high = adjusted_wald(20, 10, 40)
    row = con.execute(
        "SELECT nps, nps_n, nps_ci_low, nps_ci_high FROM department_month"
        " WHERE department_id = 'FL'"
    ).fetchone()
    assert row == pytest.approx((25.0, 40, low, high))
    # By hand: p = 20.75/43, d = 10.75/43, centre 23.26, half-width 1.96 * sqrt(0.6785/43) = 24.62.
    assert (round(low, 2), round(high, 2)) == (-1.36, 47.88)


def test_nps_below_thirty_answers_is_withheld_and_says_why():
    con = warehouse(
        nps_responses=[(f"r{i}", "2026-01-10 10:00", None, None, "FL", None, 10) for i in range(29)]
    )
    assert metric(con, "nps") == (None, 29, "too little data: n = 29 < 30")


def test_csat_and_effort():
    con = warehouse(
        nps_responses=[
            (f"r{i}", "2026-01-10", None, None, "FL", None, None, c, e)
            for i, (c, e) in enumerate([(5, 1), (4, 2), (3, 3), (1, 6)] * 10)
        ]
    )
    assert metric(con, "csat")[:2] == (0.5, 40)
    assert metric(con, "effort")[:2] == (3.0, 40)


def test_survey_touchpoint_defaults_to_the_case_first_department():
    con = warehouse(
        interactions=[contact("1", "2026-01-05 09:00", case="K1", department="BO")],
        nps_responses=[(f"r{i}", "2026-01-10", None, "K1", None, None, 10) for i in range(30)],
    )
    assert metric(con, "nps", "BO")[:2] == (100.0, 30)


def engagement(n: int, department: str = "FL", **answers) -> list[tuple]:
    values = {
        "enps": 9,
        "q_engaged": 4,
        "q_empowered": 5,
        "q_time": 2,
        "q_tools": 4,
        "q_teamwork": 3,
    }
    values.update(answers)
    return [
        (
            f"{department}{i}",
            "2026-01-01",
            department,
            None,
            values["enps"],
            values["q_engaged"],
            values["q_empowered"],
            values["q_time"],
            values["q_tools"],
            values["q_teamwork"],
        )
        for i in range(n)
    ]


def test_engagement_indices_for_a_group_of_five():
    con = warehouse(engagement_responses=engagement(5))
    assert metric(con, "engagement_index") == (1.0, 5, None)
    assert metric(con, "empowerment_index") == (pytest.approx(2 / 3), 5, None)
    assert metric(con, "teamwork_index") == (0.0, 5, None)
    assert metric(con, "enps") == (100.0, 5, None)


def test_engagement_groups_under_five_are_never_shown():
    con = warehouse(engagement_responses=engagement(4))
    for name in ("engagement_index", "empowerment_index", "teamwork_index", "enps"):
        assert metric(con, name) == (None, 4, "too little data: n = 4 < 5")
    leaked = con.execute(
        "SELECT count(*) FROM metric_month WHERE family = 'empowerment'"
        " AND n BETWEEN 1 AND 4 AND (value IS NOT NULL OR ci_low IS NOT NULL)"
    )
    assert leaked.fetchone() == (0,)


def test_organisation_rows_pool_every_department():
    con = warehouse(
        interactions=[
            contact("1", "2026-01-05", 100),
            contact("2", "2026-01-05", 200),
            contact("3", "2026-01-05", 600, department="BO"),
        ]
    )
    assert con.execute("SELECT aht_seconds, aht_seconds_n FROM organisation_month").fetchone() == (
        300.0,
        3,
    )


def test_months_without_data_say_no_data():
    con = warehouse(interactions=[contact("1", "2026-01-05", 100), contact("2", "2026-03-05", 100)])
    assert metric(con, "aht_seconds", month=date(2026, 2, 1)) == (None, 0, "no data")


def test_rates_and_means_are_double_not_decimal():
    con = warehouse(interactions=[contact("1", "2026-01-05", 100)])
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns()"
            " WHERE table_name = 'department_month'"
        ).fetchall()
    )
    from etl.contract.metrics import METRICS

    assert {types[name] for name in METRICS} == {"DOUBLE"}


def test_metrics_whose_inputs_were_never_loaded_say_not_available():
    con = warehouse(interactions=[contact("1", "2026-01-05", 100), contact("2", "2026-03-05", 100)])
    assert metric(con, "nps") == (
        None,
        0,
        "not available: no data for this metric in the warehouse",
    )
    assert metric(con, "occupancy")[2].startswith("not available")
    assert metric(con, "aht_seconds", month=date(2026, 2, 1)) == (None, 0, "no data")


def test_a_month_whose_rows_feed_no_figure_still_has_its_rows_saying_why():
    # Agent-days with no time logged: nothing to compute, but the month is in the data.
    con = warehouse(workforce=[("2026-01-05", "a1", "FL", 0), ("2026-02-05", "a1", "FL", 0)])
    months = con.execute(
        "SELECT month, occupancy_note FROM department_month WHERE department_id = 'FL' ORDER BY 1"
    ).fetchall()
    assert months == [
        (JAN, "not available: no data for this metric in the warehouse"),
        (date(2026, 2, 1), "not available: no data for this metric in the warehouse"),
    ]


def test_tasks_count_in_volumes_and_backlog_by_status_and_durations_skip_untimed_closes():
    con = warehouse(
        interactions=[contact("1", "2026-01-20 09:00")],
        case_tasks=[
            ("t1", "k", "BO", "2026-01-02 00:00", "2026-01-02 10:00", 24, "closed"),  # met
            ("t2", "k", "BO", "2026-01-02 00:00", None, 24, "closed"),  # closed, time unknown
            ("t3", "k", "BO", "2026-01-02 00:00", None, 24),  # no status, no close: open, late
            ("t4", "k", "BO", "2026-01-03 00:00", "2026-01-03 01:00", None),  # closed by its time
            ("t5", "k", "BO", "2026-01-04 00:00", None, None, "open"),  # open
        ],
    )
    assert metric(con, "tasks_opened", "BO") == (5, 5, None)
    assert metric(con, "open_tasks", "BO") == (2, 5, None)  # t3, t5
    assert metric(con, "task_sla_met_rate", "BO") == (1 / 2, 2, None)  # t1 met, t3 missed
