"""The rising themes' rule on simulated quarters with known truth: how often a theme is
called clearly up or down when no theme moved, and how often a true rise is found.

The model's own SQL runs over theme_month tables drawn at random: 9 themes, each department's
windows of 3 months holding 30 to 3,000 comments, every theme with its own share. The figures
are written in docs/methodology.md (rising themes)."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pytest

from etl.warehouse.models import SQL_DIR

THEMES = 9
MONTHS = [date(2026, m, 1) for m in range(5, 11)]  # 3 months before, then the last 3


def _rising(rng: np.random.Generator, departments: int, lift: float = 0.0) -> list[tuple]:
    """theme_rising's rows on one random organisation; lift is added to theme 0's share in
    the last 3 months of every department (0: no theme moved)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE theme_taxonomy (theme_id VARCHAR, theme_label VARCHAR,"
        " theme_order INTEGER, reliable BOOLEAN, f1 DOUBLE)"
    )
    con.executemany(
        "INSERT INTO theme_taxonomy VALUES (?, ?, ?, true, 0.8)",
        [(f"t{i}", f"Theme {i}", i) for i in range(THEMES)],
    )
    con.execute("CREATE TABLE departments (department_id VARCHAR, department_name VARCHAR)")
    con.execute(
        "CREATE TABLE theme_month (department_id VARCHAR, month DATE, theme_id VARCHAR,"
        " comments BIGINT, comments_n BIGINT)"
    )
    rows = []
    for d in range(departments):
        con.execute("INSERT INTO departments VALUES (?, ?)", (f"D{d}", f"Department {d}"))
        shares = rng.uniform(0.01, 0.45, THEMES)
        per_month = int(rng.integers(10, 1000))
        for month in MONTHS:
            recent = month >= MONTHS[3]
            n = int(rng.poisson(per_month)) + 10
            for t in range(THEMES):
                p = min(shares[t] + (lift if recent and t == 0 else 0.0), 1.0)
                rows.append((f"D{d}", month, f"t{t}", int(rng.binomial(n, p)), n))
    con.executemany("INSERT INTO theme_month VALUES (?, ?, ?, ?, ?)", rows)
    sql = (SQL_DIR / "marts" / "theme_rising.sql").read_text()
    found = con.execute(
        f"SELECT department_id, theme_id, change, is_change_clear FROM ({sql})"
        " WHERE department_id <> 'ALL' AND is_enough"
    ).fetchall()
    con.close()
    return found


def test_no_theme_moved_is_seldom_called_clear_for_any_theme_of_a_department():
    rng = np.random.default_rng(20261203)
    departments = [_rising(rng, 5) for _ in range(40)]  # 200 department quarters
    by_department: dict[tuple[int, str], bool] = {}
    for o, rows in enumerate(departments):
        for department, _, _, clear in rows:
            by_department[(o, department)] = by_department.get((o, department), False) or clear
    rate = sum(by_department.values()) / len(by_department)
    # the margin holds the nine themes together at 5%; 200 quarters: 5% +- 3 points
    assert rate <= 0.09, rate


@pytest.mark.parametrize(("lift", "at_least"), [(0.05, 0.5), (0.10, 0.9)])
def test_a_true_rise_is_found(lift, at_least):
    rng = np.random.default_rng(7)
    found = [
        clear and change > 0
        for _ in range(20)
        for _, theme, change, clear in _rising(rng, 5, lift)
        if theme == "t0"
    ]
    assert sum(found) / len(found) >= at_least
