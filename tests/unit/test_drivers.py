"""Key-driver analysis (etl/analyses/drivers.py): relative weights against a published worked
example, and nps_drivers against effects planted in a simulated organisation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from etl.analyses.drivers import MIN_ANSWERS, nps_drivers, relative_weights
from etl.sample.driver_series import NO_EFFECT, organisation


def test_relative_weights_reproduce_the_published_diamonds_example():
    """The rwa package for R documents rwa(diamonds, "price", c("depth", "carat")): from the
    correlations RXX (depth, carat) = 0.02822431 and RXY = (-0.0106474, 0.9215913) it gives
    R^2 0.8506755 and raw weights 0.000729149 (depth) and 0.849946308 (carat)."""
    rxx = np.array([[1.0, 0.02822431], [0.02822431, 1.0]])
    rxy = np.array([-0.0106474, 0.9215913])
    weights = relative_weights(rxx, rxy)
    assert weights == pytest.approx([0.000729149, 0.849946308], abs=2e-7)
    assert weights.sum() == pytest.approx(0.8506755, abs=2e-7)


def test_relative_weights_are_squared_correlations_for_orthogonal_predictors():
    rxy = np.array([0.5, -0.3, 0.1])
    assert relative_weights(np.eye(3), rxy) == pytest.approx(rxy**2)


def test_relative_weights_split_the_regression_r_squared():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2000, 4)) @ rng.standard_normal((4, 4))  # correlated
    y = x @ np.array([1.0, -0.5, 0.0, 2.0]) + rng.standard_normal(2000) * 3
    corr = np.corrcoef(np.column_stack([x, y]), rowvar=False)
    weights = relative_weights(corr[:-1, :-1], corr[:-1, -1])
    fitted = (
        np.column_stack([np.ones(2000), x])
        @ np.linalg.lstsq(np.column_stack([np.ones(2000), x]), y, rcond=None)[0]
    )
    r_squared = 1 - ((y - fitted) ** 2).sum() / ((y - y.mean()) ** 2).sum()
    assert weights.sum() == pytest.approx(r_squared)
    assert weights.min() >= 0


@pytest.fixture(scope="module")
def planted():
    answers, effects = organisation(7)
    return nps_drivers(answers, {"ALL": 12}, {"D0": "Billing"}), effects, answers


def test_planted_effects_fall_within_their_intervals(planted):
    result, effects, _ = planted
    weighed = result.filter(pl.col("department_id") == "ALL", pl.col("nps_gap").is_not_null())
    for row in weighed.iter_rows(named=True):
        assert row["nps_gap_ci_low"] <= effects[row["driver"]] <= row["nps_gap_ci_high"], row
    verdicts = dict(weighed.select("driver", "verdict").iter_rows())
    assert verdicts[NO_EFFECT] == "no clear effect"
    assert verdicts["promise_broken"] == verdicts["unresolved_first_contact"] == "lower NPS"
    top = weighed.sort("importance", descending=True)["driver"].to_list()[:2]
    assert set(top) == {"unresolved_first_contact", "promise_broken"}


def test_every_figure_carries_its_answers_and_the_unlinked_are_counted(planted):
    result, _, answers = planted
    organisation_rows = result.filter(pl.col("department_id") == "ALL")
    assert set(organisation_rows["answers"]) == {answers.height}
    assert set(organisation_rows["unlinked_answers"]) == {12}
    broken = organisation_rows.filter(pl.col("driver") == "promise_broken").row(0, named=True)
    assert broken["with_driver"] == answers["promise_broken"].sum()
    assert broken["explanation"].startswith("the organisation: a broken promise happens on")
    assert "points lower NPS (95% interval" in broken["explanation"]


def test_a_small_scope_says_too_few_answers_and_a_rare_driver_too_rare():
    answers, _ = organisation(7)
    small = answers.head(MIN_ANSWERS - 1).with_columns(pl.lit("D9").alias("department_id"))
    result = nps_drivers(pl.concat([answers, small]), {}, {})
    assert set(result.filter(pl.col("department_id") == "D9")["verdict"]) == {"too few answers"}
    rare = answers.with_columns(
        (pl.int_range(pl.len()) < 5).alias("resolved_after_a_week"),
        pl.col("transferred").alias("handed_off"),
    )
    verdicts = dict(
        nps_drivers(rare, {}, {})
        .filter(pl.col("department_id") == "ALL")
        .select("driver", "verdict")
        .iter_rows()
    )
    assert verdicts["resolved_after_a_week"] == "too rare to judge"
    assert verdicts["handed_off"] == "same cases as another"


def test_a_driver_that_is_the_sum_of_others_is_set_aside_and_said_to_be_tied(recwarn):
    """A hand-off exactly when a transfer or a broken promise happened (never both) is their
    sum: the regression has no unique answer, so it is named as tied, not given a figure."""
    answers, _ = organisation(7)
    either = answers.with_columns(
        pl.when(pl.col("transferred") & pl.col("promise_broken"))
        .then(False)
        .otherwise(pl.col("promise_broken"))
        .alias("promise_broken")
    ).with_columns((pl.col("transferred") | pl.col("promise_broken")).alias("handed_off"))
    result = nps_drivers(either, {}, {}).filter(pl.col("department_id") == "ALL")
    tied = result.filter(pl.col("driver") == "handed_off").row(0, named=True)
    assert tied["verdict"] == "tied to other drivers"
    assert tied["nps_gap"] is None and tied["importance"] is None
    assert "fully determined by the other drivers" in tied["explanation"]
    weighed = result.filter(pl.col("nps_gap").is_not_null())
    assert {"transferred", "promise_broken"} <= set(weighed["driver"])
    assert not [w for w in recwarn if "rank-deficient" in str(w.message)]
