"""The tiles' "clear change": the SQL's sampling errors and rule, held to the formulas that
benchmarks/clear_changes.py measures the error rates of (docs/methodology.md#clear-changes)."""

from __future__ import annotations

import math

import pytest

from etl.contract.metrics import METRICS, Z_95
from etl.warehouse.read_only import connect_read_only


@pytest.fixture(scope="module")
def con(sample_db):
    con = connect_read_only(sample_db)
    yield con
    con.close()


def rows(con, sql: str, **params) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def test_a_share_of_counted_units_has_its_binomial_error(con):
    found = rows(
        con,
        "SELECT value, n, standard_error FROM metric_month WHERE metric = 'fcr_rate'"
        " AND value IS NOT NULL",
    )
    assert found
    for value, n, error in found:
        assert error == pytest.approx(math.sqrt(value * (1 - value) / n))


def test_nps_has_the_error_of_a_difference_of_two_shares(con):
    found = rows(
        con,
        "SELECT m.value, m.standard_error, count(score) AS n,"
        " count(*) FILTER (WHERE score >= 9) AS promoters,"
        " count(*) FILTER (WHERE score <= 6) AS detractors"
        " FROM metric_month m JOIN int_nps_responses r USING (month)"
        " WHERE m.metric = 'nps' AND m.department_id = 'ALL' GROUP BY ALL",
    )
    assert found
    for value, error, n, promoters, detractors in found:
        p, d = promoters / n, detractors / n
        assert value == pytest.approx(100 * (p - d))
        assert error == pytest.approx(100 * math.sqrt(p + d - (p - d) ** 2) / math.sqrt(n))


def test_a_mean_has_the_error_of_a_mean(con):
    found = rows(
        con,
        "SELECT m.standard_error, stddev_samp(handle_seconds) / sqrt(count(*))"
        " FROM metric_month m JOIN int_interactions i USING (month)"
        " WHERE m.metric = 'aht_seconds' AND m.department_id = 'ALL' GROUP BY ALL",
    )
    assert found
    for error, expected in found:
        assert error == pytest.approx(expected)


def test_complete_records_have_no_sampling_error_and_are_judged_by_size(con):
    census = [m for m, d in METRICS.items() if not d.sampling]
    assert {"occupancy", "contacts_per_hour", "cost_per_contact"} <= set(census)
    errors = rows(
        con,
        "SELECT count(*) FROM metric_month WHERE list_contains($m, metric)"
        " AND standard_error IS NOT NULL",
        m=census,
    )
    assert errors == [(0,)]
    judged = rows(
        con,
        "SELECT DISTINCT metric, change_judged_by FROM kpi_headlines"
        " WHERE list_contains($m, metric)",
        m=census,
    )
    assert {j for _, j in judged} == {"size"}


def test_every_tile_change_is_judged_by_the_stated_rule(con):
    """Recomputed from metric_month's values and errors for every organisation tile."""
    found = rows(
        con,
        "SELECT h.metric, h.change_vs_previous, h.is_change_clear, h.previous_value,"
        " now.standard_error, before.standard_error"
        " FROM kpi_headlines h"
        " JOIN metric_month now ON now.department_id = h.department_id AND now.month = h.period"
        "  AND now.metric = h.metric"
        " JOIN metric_month before ON before.department_id = h.department_id"
        "  AND before.month = h.previous_period AND before.metric = h.metric"
        " WHERE h.department_id = 'ALL' AND h.channel = 'all' AND h.month = h.period"
        " AND h.change_vs_previous IS NOT NULL",
    )
    assert len(found) > 100
    clear = 0
    for metric, change, is_clear, previous, error, previous_error in found:
        if METRICS[metric].sampling:
            expected = abs(change) > Z_95 * math.sqrt(error**2 + previous_error**2)
        else:
            expected = abs(change) >= 0.10 * abs(previous)
        assert is_clear == expected, metric
        clear += is_clear
    assert 0 < clear < len(found), "the sample has clear and unclear changes both"
