"""The conflict method on small synthetic series: it flags real conflicts and survives noise."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from etl.analyses import MIN_PERIODS, kpi_conflicts


def series(aht: np.ndarray, fcr: np.ndarray) -> pl.DataFrame:
    """metric_month-shaped rows for one department: handle time and first-contact resolution."""
    months = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(len(aht))]
    rows = [
        ("D", "Dept", month, "aht_seconds", float(a), 1000, None, None)
        for month, a in zip(months, aht, strict=True)
    ]
    rows += [
        ("D", "Dept", month, "fcr_rate", float(f), 1000, None, None)
        for month, f in zip(months, fcr, strict=True)
    ]
    return pl.DataFrame(
        rows,
        orient="row",
        schema=["department_id", "name", "month", "metric", "value", "n", "ci_low", "ci_high"],
    )


def pair(table: pl.DataFrame) -> dict:
    return table.filter(
        (pl.col("productivity_metric") == "aht_seconds") & (pl.col("outcome_metric") == "fcr_rate")
    ).row(0, named=True)


def test_handle_time_falling_while_resolution_falls_is_flagged():
    rng = np.random.default_rng(0)
    trend = np.linspace(0, 1, 24)
    row = pair(
        kpi_conflicts(
            series(
                500 - 150 * trend + rng.normal(0, 5, 24),
                0.74 - 0.2 * trend + rng.normal(0, 0.01, 24),
            )
        )
    )
    assert row["flagged"] and row["association"] < -0.8
    assert row["explanation"].startswith("In Dept, handle time fell")


@pytest.mark.parametrize("seed", range(25))
def test_a_department_whose_productivity_did_not_move_is_never_flagged(seed):
    rng = np.random.default_rng(seed)
    trend = np.linspace(0, 1, 24)
    # Handle time is flat with noise (and noise that happens to trend must stay under 10%).
    aht = 450 + rng.normal(0, 15, 24)
    fcr = 0.74 - 0.2 * trend + rng.normal(0, 0.01, 24)
    row = pair(kpi_conflicts(series(aht, fcr)))
    assert not row["flagged"]
    assert "did not improve materially" in row["explanation"]


def test_too_few_months_are_not_assessed():
    months = MIN_PERIODS - 1
    row = pair(kpi_conflicts(series(np.linspace(500, 300, months), np.linspace(0.8, 0.5, months))))
    assert (row["flagged"], row["association"]) == (False, None)
    assert row["explanation"].startswith("Not assessed: only 11 months")
