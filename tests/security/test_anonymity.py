"""Employee anonymity by subtraction: no published figures recover a group under 5.

Each department-wave under 5 answers is withheld; the tests here solve for hidden groups the
way an attacker would: the organisation's count minus the departments shown beside it.
"""

from __future__ import annotations

from collections import defaultdict

import duckdb
import pytest

from etl.metrics import METRICS, MIN_N_ENGAGEMENT_GROUP
from etl.models import build
from etl.warehouse import ensure_schema

SURVEY = [m for m, metric in METRICS.items() if metric.family == "empowerment"]


def _warehouse(sizes: dict[str, int]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with one department per entry, answering one wave in January."""
    con = duckdb.connect()
    ensure_schema(con)
    for number, department in enumerate(sizes, 1):
        con.execute(
            "INSERT INTO raw_departments VALUES (?, ?, 'frontline', 9, 0, 'd', ?, NULL)",
            [department, f"Unit {department}", number],
        )
    row = 0
    for department, n in sizes.items():
        for i in range(n):
            row += 1
            detractor = i % 3 == 0
            con.execute(
                "INSERT INTO raw_engagement_responses VALUES"
                " (?, '2026-01-01', ?, NULL, ?, ?, 4, 2, 5, ?, 0, 'e.csv', ?, NULL)",
                [f"{department}{i}", department, 3 if detractor else 10, 2 if detractor else 5,
                 1 if detractor else 4, row],
            )  # fmt: skip
    build(con)
    return con


def _hidden_groups(cells: list[tuple[str, int, object]]) -> list[int]:
    """Sizes of the groups an attacker recovers from one total: (department, n, value) rows,
    'ALL' among them; the total's n minus the n of every department shown with a value."""
    total = [n for d, n, v in cells if d == "ALL" and v is not None]
    if not total:
        return []
    shown = sum(n for d, n, v in cells if d != "ALL" and v is not None)
    return [total[0] - shown]


def _too_small(groups: list[int]) -> list[int]:
    return [g for g in groups if 0 < g < MIN_N_ENGAGEMENT_GROUP]


def _survey_cells(con, sql: str) -> dict[tuple, list[tuple]]:
    cells = defaultdict(list)
    for *key, department, n, value in con.execute(sql).fetchall():
        cells[tuple(key)].append((department, n, value))
    return cells


@pytest.mark.parametrize(
    ("sizes", "withheld"),
    [
        ({"A": 3, "B": 5, "C": 12}, {"A", "B"}),  # the next smallest goes with the small one
        ({"A": 3, "B": 40}, {"A", "B"}),  # only one other: it goes too, the total stays
        ({"A": 1, "B": 1, "C": 2, "D": 30}, {"A", "B", "C", "D"}),  # 4 hidden is still too few
        ({"A": 2, "B": 2}, {"A", "B", "ALL"}),  # the total is itself under 5
        ({"A": 5, "B": 6}, set()),
    ],
)
def test_a_withheld_group_takes_enough_others_with_it(sizes, withheld):
    con = _warehouse(sizes)
    for metric in SURVEY:
        rows = con.execute(
            "SELECT department_id, n, value FROM metric_month WHERE metric = ? AND n > 0",
            [metric],
        ).fetchall()
        assert {d for d, _, v in rows if v is None} == withheld, metric
        assert _too_small(_hidden_groups(rows)) == [], metric
        notes = con.execute(
            "SELECT department_id, note FROM metric_month WHERE metric = ? AND value IS NULL"
            " AND n >= 5",
            [metric],
        ).fetchall()
        assert all("withheld" in note for _, note in notes), notes


def test_no_view_of_the_sample_gives_away_a_group_under_five(sample_db):
    """Every view that carries employee figures, solved for hidden groups."""
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        survey = ", ".join(f"'{m}'" for m in SURVEY)
        long_views = {
            "metric_channel_month": "channel = 'all'",
            "metric_month": "true",
            "kpi_headlines": "channel = 'all'",
        }
        groups = []
        for view, where in long_views.items():
            cells = _survey_cells(
                con,
                f"SELECT month, metric, department_id, n, value FROM {view}"
                f" WHERE metric IN ({survey}) AND {where} AND n > 0",
            )
            assert cells, view
            groups += [(view, key, g) for key, rows in cells.items() for g in _hidden_groups(rows)]
        for metric in SURVEY:
            wide = _survey_cells(
                con,
                f"SELECT month, department_id, {metric}_n, {metric} FROM department_month"
                f" WHERE {metric}_n > 0 UNION ALL SELECT month, 'ALL', {metric}_n, {metric}"
                " FROM organisation_month",
            )
            groups += [(metric, key, g) for key, rows in wide.items() for g in _hidden_groups(rows)]
        linkage = _survey_cells(
            con,
            "SELECT wave, department_id, responses, enps FROM ex_cx_linkage WHERE responses > 0",
        )
        groups += [("linkage", k, g) for k, rows in linkage.items() for g in _hidden_groups(rows)]
        recovered = [(v, k, g) for v, k, g in groups if 0 < g < MIN_N_ENGAGEMENT_GROUP]
        assert len(groups) > 100
        assert recovered == []
        # The sample has small department-waves, so the check above is not empty-handed.
        small = con.execute(
            f"SELECT count(*) FROM metric_month WHERE metric IN ({survey}) AND n BETWEEN 1 AND 4"
        ).fetchone()[0]
        assert small > 0
    finally:
        con.close()
