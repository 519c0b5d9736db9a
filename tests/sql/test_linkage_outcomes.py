"""int_linkage_outcome_month given a few raw rows: a back office is measured on its held cases."""

from __future__ import annotations

from datetime import date

import pytest

from tests.sql.test_metrics import contact, warehouse

JAN, FEB = date(2026, 1, 1), date(2026, 2, 1)


def test_a_back_office_is_measured_on_the_cases_it_held_in_the_month_it_took_them():
    # FL opens K1 and K2 in January; BO takes K2 in January and K1 in February. Customers rate
    # K1 only (20 promoters, 10 detractors) and never name BO: its touchpoint NPS is empty.
    con = warehouse(
        interactions=[
            contact("1", "2026-01-05 09:00", case="K1"),
            contact("2", "2026-01-06 09:00", case="K2"),
        ],
        case_tasks=[
            ("t1", "K1", "BO", "2026-02-02 09:00", "2026-02-10 09:00", 48),
            ("t2", "K2", "BO", "2026-01-20 09:00", "2026-01-22 09:00", 48),
            ("t3", "K1", "BO", "2026-02-11 09:00", "2026-02-12 09:00", 48),
        ],
        nps_responses=[
            (f"r{i}", "2026-02-14 10:00", None, "K1", None, None, 10 if i < 20 else 3)
            for i in range(30)
        ],
    )
    rows = con.execute(
        "SELECT department_id, month, outcome_basis, cases_held, nps_answers, nps, fcr_cases,"
        " fcr_rate FROM int_linkage_outcome_month WHERE department_id IN ('BO', 'FL')"
        " ORDER BY department_id DESC, month"
    ).fetchall()
    assert rows == [
        ("FL", JAN, "touchpoint", 0, 0, None, 0, None),
        ("FL", FEB, "touchpoint", 0, 30, pytest.approx(100 / 3), 0, None),
        ("BO", JAN, "held_cases", 1, 0, None, 0, None),
        ("BO", FEB, "held_cases", 1, 30, pytest.approx(100 / 3), 0, None),
    ]


def test_held_cases_under_thirty_answers_show_their_count_and_no_nps():
    con = warehouse(
        interactions=[contact("1", "2026-01-05 09:00", case="K1")],
        case_tasks=[("t1", "K1", "BO", "2026-01-06 09:00", "2026-01-07 09:00", 48)],
        nps_responses=[(f"r{i}", "2026-01-10", None, "K1", None, None, 10) for i in range(29)],
    )
    row = con.execute(
        "SELECT cases_held, nps_answers, nps FROM int_linkage_outcome_month"
        " WHERE department_id = 'BO' AND month = $m",
        {"m": JAN},
    ).fetchone()
    assert row == (1, 29, None)
