"""department_value on random organisations it was never tuned to (etl/sample/organisations.py):
a reduced
run of benchmarks/department_value.py, so that a regression in the verdicts fails CI."""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor

import polars as pl
import pytest

from etl.analyses.thresholds import MATERIAL_NPS_GAP
from etl.sample import organisations as simulate

pytestmark = pytest.mark.generated

ORGANISATIONS = range(1001, 1021)


def _judge(seed: int) -> pl.DataFrame:
    warnings.simplefilter("ignore")  # scipy's notes on constant series in other analyses
    return simulate.judge(seed, scale=0.3)


@pytest.fixture(scope="module")
def results() -> pl.DataFrame:
    # Two fresh processes (spawned: nothing of this one's open warehouses is inherited).
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pl.concat(list(pool.map(_judge, ORGANISATIONS)))


def test_the_organisations_hold_the_hard_cases(results):
    functions = results.group_by("organisation", "function").agg(
        pl.len().alias("units"), pl.col("kind").is_in(sorted(simulate.BAD)).sum().alias("bad")
    )
    assert functions.filter(pl.col("units") == 2).height > 0
    assert functions.filter(pl.col("bad") * 2 > pl.col("units")).height > 0
    assert set(results["kind"]) == set(simulate.KINDS)
    assert results.filter(pl.col("answers") < 30).height > 0


def test_bad_units_with_enough_answers_and_a_real_gap_are_found(results):
    rates = simulate.rates(results)
    assert rates["target_bad_units"] >= 10
    assert rates["target_found"] >= 0.9 * rates["target_bad_units"]


def test_fine_units_are_almost_never_called_bad(results):
    rates = simulate.rates(results)
    assert rates["fine_units"] >= 100
    assert rates["fine_called_bad"] <= 0.03 * rates["fine_units"]


def test_no_wide_interval_is_called_neutral(results):
    neutral = results.filter(pl.col("verdict") == "neutral")
    assert neutral.height > 0
    assert (neutral["nps_gap_ci_low"] > -MATERIAL_NPS_GAP).all()
    assert (neutral["nps_gap_ci_high"] < MATERIAL_NPS_GAP).all()


def test_a_unit_better_only_than_units_out_of_the_ordinary_makes_no_claim():
    # Organisation 34's back office: two bad units (one breaks most of its promises) and one
    # fine unit, which is far better than both. Being better than failing units says nothing.
    data, truth = simulate.frames(simulate.organisation(34))
    con = simulate.warehouse(data)
    try:
        rows = con.sql(
            "SELECT department_id, verdict, nps_gap, explanation FROM department_value"
            " WHERE department_function = 'back_office'"
        ).pl()
    finally:
        con.close()
    kinds = dict(truth.select("department_id", "kind").iter_rows())
    verdicts = {r["department_id"]: r for r in rows.iter_rows(named=True)}
    assert sorted(kinds[d] for d in verdicts) == ["destroys_value", "destroys_value", "fine"]
    for unit, row in verdicts.items():
        if kinds[unit] == "fine":
            assert row["nps_gap"] >= MATERIAL_NPS_GAP  # better than the others, beyond doubt
            assert row["verdict"] == "insufficient_data"
            assert "far from ordinary work" in row["explanation"]
        else:
            assert row["verdict"] == "destroys_value"
