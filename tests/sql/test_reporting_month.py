"""month_completeness, given a few raw rows: which month is complete and which one reports."""

from __future__ import annotations

from datetime import date, timedelta

from tests.sql.test_metrics import contact, warehouse

#: Rows a full month of each source holds in these tests (above MIN_JUDGED_ROWS).
FULL = 40


def _days(month: date, rows: int, last_day: int) -> list[date]:
    """rows days of a month spread from its 1st to last_day."""
    return [month + timedelta(days=(i * (last_day - 1)) // max(rows - 1, 1)) for i in range(rows)]


def _month(month: date, rows: int = FULL, last_day: int = 28, sources=None) -> dict:
    """rows rows of every monthly source (or of those named) in a month, up to last_day."""
    days = _days(month, rows, last_day)
    tag = f"{month:%Y%m}"
    made = {
        "interactions": [contact(f"i{tag}-{i}", f"{d} 10:00") for i, d in enumerate(days)],
        "case_tasks": [(f"t{tag}-{i}", f"k{i}", "BO", f"{d} 10:00") for i, d in enumerate(days)],
        "workforce": [(str(d), f"a{i}", "FL", 480) for i, d in enumerate(days)],
        "nps_responses": [
            (f"r{tag}-{i}", f"{d} 10:00", None, None, "FL", None, 9) for i, d in enumerate(days)
        ],
    }
    return {s: rows for s, rows in made.items() if sources is None or s in sources}


def _months(*parts: dict) -> dict:
    rows: dict[str, list] = {}
    for part in parts:
        for source, more in part.items():
            rows.setdefault(source, []).extend(more)
    return rows


def _completeness(**rows) -> list[tuple]:
    con = warehouse(**rows)
    return con.execute(
        "SELECT month, is_complete, is_reporting_month, is_in_progress FROM month_completeness"
        " ORDER BY month"
    ).fetchall()


JAN, FEB, MAR, APR = (date(2026, m, 1) for m in (1, 2, 3, 4))


def test_a_trailing_month_of_stragglers_in_every_source_is_in_progress():
    months = _completeness(**_months(_month(JAN), _month(FEB), _month(MAR), _month(APR, 3, 3)))
    assert months == [
        (JAN, True, False, False),
        (FEB, True, False, False),
        (MAR, True, True, False),
        (APR, False, False, True),
    ]


def test_a_small_month_followed_by_a_full_one_is_complete_and_a_trailing_one_is_not():
    # A holiday month at a third of the volume: what happened, once the next month is in.
    holiday = _months(_month(JAN), _month(FEB, FULL // 3), _month(MAR))
    assert [row[1] for row in _completeness(**holiday)] == [True, True, True]
    trailing = _months(_month(JAN), _month(FEB), _month(MAR, FULL // 3))
    assert _completeness(**trailing)[-1] == (MAR, False, False, True)


def test_a_smaller_month_above_half_of_a_typical_one_is_complete():
    months = _completeness(**_months(_month(JAN), _month(FEB), _month(MAR, FULL * 6 // 10)))
    assert months[-1] == (MAR, True, True, False)


def test_contacts_that_stop_well_before_the_months_end_are_still_loading():
    months = _completeness(**_months(_month(JAN), _month(FEB), _month(MAR, FULL, 20)))
    assert months[-1] == (MAR, False, False, True)


def test_a_single_month_still_loading_is_shown_rather_than_nothing():
    assert _completeness(**_month(JAN, 5, 5)) == [(JAN, False, True, True)]
    assert _completeness(**_month(JAN)) == [(JAN, True, True, False)]


def test_a_source_with_few_rows_a_month_is_not_judged_by_its_volume():
    # Five survey answers a month, then one: chance, not a month still loading.
    few = _months(
        *(_month(m, sources=("interactions", "case_tasks", "workforce")) for m in (JAN, FEB, MAR)),
        *(_month(m, 5, sources=("nps_responses",)) for m in (JAN, FEB)),
        _month(MAR, 1, sources=("nps_responses",)),
    )
    assert _completeness(**few)[-1] == (MAR, True, True, False)


def test_a_source_never_loaded_does_not_hold_every_month_back():
    only_contacts = _months(
        _month(JAN, sources=("interactions",)), _month(FEB, 3, 3, ("interactions",))
    )
    assert _completeness(**only_contacts) == [(JAN, True, True, False), (FEB, False, False, True)]
