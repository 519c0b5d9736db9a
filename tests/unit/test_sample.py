"""The sample generator's span: any number of months (12 or more) ending with October 2026."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import pytest

from etl.sample.bundled import frames


@pytest.mark.parametrize("months", [12, 24, 50])
def test_the_sample_covers_the_months_asked_for_ending_october_2026(months):
    sample = frames("20k", months=months)
    started = sample["interactions"]["started_at"]
    assert started.dt.truncate("1mo").n_unique() == months
    assert started.max() < datetime(2026, 11, 1)
    index = 2026 * 12 + 10 - months  # November 2026, counted in months, less the span
    first = datetime(index // 12, index % 12 + 1, 1)
    assert started.min().replace(day=1, hour=0, minute=0, second=0) == first
    workforce_months = sample["workforce"]["work_date"].dt.truncate("1mo").unique()
    assert workforce_months.len() == months
    targets_from = sample["kpi_targets"].filter(pl.col("metric") == "nps")["valid_from"]
    assert targets_from.to_list() == [first.date()]


def test_fewer_than_twelve_months_is_refused():
    with pytest.raises(ValueError, match="at least 12"):
        frames("20k", months=6)


def test_every_front_line_desk_is_busy_for_the_time_it_is_logged_in():
    """The tiny escalation desk's one agent logged a full day beside 14 cases a month: 2%
    occupancy. A desk that needs less than one agent is logged in part time."""
    sample = frames("20k")
    work = sample["workforce"]
    shares = (
        work.filter(pl.col("handling_minutes").is_not_null())
        .group_by("department_id")
        .agg((pl.col("handling_minutes").sum() / pl.col("logged_in_minutes").sum()).alias("occ"))
    )
    low = shares.filter(pl.col("occ") < 0.5)
    assert low.is_empty(), low
