"""Employee anonymity by subtraction: no published figures recover a group under 5.

Each department-wave under 5 answers is withheld; the tests here solve for hidden groups the
way an attacker would: the organisation's count minus the departments shown beside it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

import duckdb
import pytest

from etl.contract.metrics import METRICS, MIN_N_ENGAGEMENT_GROUP
from etl.warehouse.models import build
from etl.warehouse.publish import ensure_schema

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


def _add_answers(con, department: str, count: int, wave: str = "2026-01-01") -> None:
    """Answers loaded after the first ones: all detractors, so any leak of them shows."""
    start = con.execute("SELECT count(*) FROM raw_engagement_responses").fetchone()[0]
    for i in range(count):
        con.execute(
            "INSERT INTO raw_engagement_responses VALUES"
            " (?, ?, ?, NULL, 0, 1, 1, 1, 1, 1, 0, 'late.csv', ?, NULL)",
            [f"late-{department}-{wave}-{i}", wave, department, start + i + 1],
        )


def _employee_cells(con) -> dict[tuple, tuple]:
    survey = ", ".join(f"'{m}'" for m in SURVEY)
    rows = con.execute(
        f"SELECT month, department_id, metric, n, value FROM metric_month WHERE metric IN"
        f" ({survey})"
    ).fetchall()
    return {(str(m), d, metric): (n, v) for m, d, metric, n, v in rows}


def test_a_published_wave_keeps_its_figures_when_late_answers_arrive():
    """A snapshot froze January; 3 late answers to it must change no published figure, or the
    frozen figure set against the live one gives those 3 answers away."""
    from etl.warehouse.published_waves import publish_waves

    con = _warehouse({"A": 8, "B": 9, "C": 12})
    frozen = _employee_cells(con)
    assert publish_waves(con, "2026-01-v1", date(2026, 1, 1)) == 1
    _add_answers(con, "A", 3)
    _add_answers(con, "B", 2, wave="2026-02-01")  # a wave nobody has published yet
    build(con)
    live = _employee_cells(con)
    january = {k: v for k, v in live.items() if k[0] == "2026-01-01"}
    assert january == frozen
    # The new wave is counted as usual (2 answers: withheld, and so is its total).
    assert live[("2026-02-01", "B", "enps")] == (2, None)
    status = con.execute(
        "SELECT status FROM source_freshness WHERE source = 'engagement_responses'"
    ).fetchone()[0]
    assert "wave of Jan 2026, published in a board snapshot, keeps its published figures" in status
    assert "3 answers loaded since are not counted" in status
    # A second snapshot publishes nothing twice, and the next wave only once it is taken.
    assert publish_waves(con, "2026-01-v2", date(2026, 1, 1)) == 0
    assert publish_waves(con, "2026-02-v1", date(2026, 2, 1)) == 1


def test_without_a_snapshot_late_answers_count():
    con = _warehouse({"A": 8, "B": 9})
    _add_answers(con, "A", 3)
    build(con)
    assert _employee_cells(con)[("2026-01-01", "A", "enps")][0] == 11


def test_every_model_reading_employee_answers_or_their_counts_is_hidden_or_suppresses():
    """The class: a view built on the survey's answers, or on its counts before suppression,
    is exposed only if it is the model that suppresses (or carries months alone)."""
    from etl.warehouse.access import HIDDEN
    from etl.warehouse.models import discover

    survey = {"stg_engagement_responses", "int_engagement_counts"}
    readers = {name for name, model in discover().items() if model.depends_on & survey}
    suppresses = {"metric_channel_month"}  # withholds small and complementary cells
    months_only = {"source_freshness"}  # first and last wave, and the organisation's counts
    assert readers - HIDDEN == suppresses | months_only
    assert survey <= HIDDEN


def test_waves_frozen_before_counts_were_kept_close_at_the_next_build():
    """A warehouse whose snapshot predates the published counts: the waves its frozen table
    shows close at the next build, and later answers to them change no figure."""
    con = _warehouse({"A": 8, "B": 9, "C": 12})
    con.execute(
        "CREATE TABLE snapshot_department_month AS SELECT 'old-v1' AS snapshot_id, *"
        " FROM department_month"
    )
    frozen = _employee_cells(con)
    build(con)
    assert con.execute(
        "SELECT DISTINCT month::VARCHAR, snapshot_id FROM meta_published_engagement"
    ).fetchall() == [("2026-01-01", "old-v1")]
    _add_answers(con, "A", 3)
    _add_answers(con, "B", 6, wave="2026-02-01")  # never frozen: counted as usual
    build(con)
    live = _employee_cells(con)
    assert {k: v for k, v in live.items() if k[0] == "2026-01-01"} == frozen
    assert live[("2026-02-01", "B", "enps")][0] == 6
