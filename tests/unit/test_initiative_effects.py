"""initiative_effects on small synthetic departments: a lift is set against the departments
without the initiative, counts only when clear and material, and names its KPI conflict."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from etl.analyses import initiatives
from etl.analyses.initiatives import initiative_effects
from etl.sample.initiative_series import _NO_CONFLICTS

MONTHS = [date(2024 + m // 12, m % 12 + 1, 1) for m in range(24)]
START = MONTHS[12]


def departments(fcr: dict[str, np.ndarray]) -> pl.DataFrame:
    rows = [
        (d, f"Dept {d}", month, "fcr_rate", float(v), 500, None, None)
        for d, values in fcr.items()
        for month, v in zip(MONTHS, values, strict=True)
    ]
    return pl.DataFrame(
        rows,
        orient="row",
        schema=["department_id", "name", "month", "metric", "value", "n", "ci_low", "ci_high"],
    )


def one(department: str = "A", metric: str = "fcr_rate", start: date = START) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "initiative_id": ["I1"],
            "initiative_name": ["Coaching"],
            "department_id": [department],
            "started_on": [start],
            "metric": [metric],
        }
    )


def effect(series: pl.DataFrame, conflicts: pl.DataFrame = _NO_CONFLICTS, **kw) -> dict:
    return initiative_effects(one(**kw), series, conflicts).row(0, named=True)


def noisy(rng: np.random.Generator, shared: np.ndarray, names: str = "ABCDE") -> dict:
    return {d: 0.7 + shared + rng.normal(0, 0.01, 24) for d in names}


def test_a_rise_every_department_shares_is_no_lift_of_the_initiative():
    rng = np.random.default_rng(1)
    rising = np.clip(np.arange(24) - 11, 0, 6) * 0.015  # everyone's FCR up 9 points
    series = departments(noisy(rng, rising))
    row = effect(series)
    assert row["verdict"] == "no_clear_lift" and row["comparison_departments"] == 4
    assert abs(row["lift_3_6_months"]) < 0.02
    assert "against 4 departments without it, within what chance gives" in row["explanation"]
    # The department's own before and after alone would have called it durable.
    alone = effect(series.filter(pl.col("department_id") == "A"))
    assert alone["verdict"] == "durable" and alone["comparison_departments"] == 0
    assert "no department without it to compare with" in alone["explanation"]


def test_a_lift_only_the_initiative_department_gets_is_durable():
    rng = np.random.default_rng(2)
    values = noisy(rng, np.zeros(24))
    values["A"] = values["A"] + 0.08 * (np.arange(24) >= 12)
    row = effect(departments(values))
    assert row["verdict"] == "durable" and row["durable"]
    assert row["lift_3_6_months"] == pytest.approx(0.08, abs=0.02)
    assert row["lift_3_6_months_ci_low"] > 0.03
    assert row["explanation"].startswith("Coaching (first-contact resolution): the lift held")


def test_a_lift_gone_after_two_months_faded():
    rng = np.random.default_rng(3)
    values = noisy(rng, np.zeros(24))
    values["A"] = values["A"] + 0.08 * ((np.arange(24) >= 12) & (np.arange(24) < 14))
    row = effect(departments(values))
    assert row["verdict"] == "faded" and row["durable"] is False
    assert "a quick fix that faded" in row["explanation"]


def test_a_clear_lift_too_small_to_matter_is_no_lift():
    rng = np.random.default_rng(4)
    values = {d: 0.7 + rng.normal(0, 0.002, 24) for d in "ABCDE"}
    values["A"] = values["A"] + 0.015 * (np.arange(24) >= 12)  # clear, under 3 points
    row = effect(departments(values))
    assert row["lift_3_6_months_ci_low"] > 0
    assert row["verdict"] == "no_clear_lift"


def test_departments_with_their_own_initiative_on_the_metric_are_not_the_comparison():
    rng = np.random.default_rng(5)
    values = noisy(rng, np.zeros(24))
    for d in "BCD":  # the same initiative rolled out in three more departments
        values[d] = values[d] + 0.08 * (np.arange(24) >= 12)
    values["A"] = values["A"] + 0.08 * (np.arange(24) >= 12)
    initiatives = pl.concat([one(d).with_columns(initiative_id=pl.lit(f"I{d}")) for d in "ABCD"])
    rows = initiative_effects(initiatives, departments(values), _NO_CONFLICTS)
    assert rows["comparison_departments"].to_list() == [0, 0, 0, 0]
    assert set(rows["verdict"]) == {"durable"}


def test_a_productivity_initiative_inside_a_flagged_conflict_says_customers_lost_out():
    rng = np.random.default_rng(6)
    aht = {d: 450 + rng.normal(0, 5, 24) for d in "ABCDE"}
    aht["A"] = aht["A"] - 90 * (np.arange(24) >= 12)
    series = departments(aht).with_columns(metric=pl.lit("aht_seconds"))
    conflict = pl.DataFrame(
        {
            "scope": ["department"] * 2,
            "department_id": ["A", "A"],
            "productivity_metric": ["aht_seconds"] * 2,
            "outcome_metric": ["fcr_rate", "nps"],
            "first_month": [MONTHS[0]] * 2,
            "last_month": [MONTHS[-1]] * 2,
            "association": [-0.5, -0.8],
            "flagged": [True, True],
        }
    )
    row = effect(series, conflict, metric="aht_seconds")
    assert row["verdict"] == "durable" and row["conflict_outcome"] == "nps"
    assert row["explanation"].endswith(
        "without it, but customers lost out: NPS worsened in the same months"
        " (see the KPI conflict)."
    )
    assert effect(series, _NO_CONFLICTS, metric="aht_seconds")["conflict_outcome"] is None


def test_too_few_months_before_is_too_early_to_judge():
    series = departments({d: np.full(24, 0.7) for d in "ABC"})
    row = effect(series, start=MONTHS[2])
    assert row["verdict"] == "too_early" and row["durable"] is None
    assert "not enough months" in row["explanation"]


def test_the_comparison_needs_more_than_one_department(monkeypatch):
    monkeypatch.setattr(initiatives, "MIN_COMPARISONS", 5)
    rng = np.random.default_rng(7)
    row = effect(departments(noisy(rng, np.zeros(24))))
    assert row["comparison_departments"] == 0
