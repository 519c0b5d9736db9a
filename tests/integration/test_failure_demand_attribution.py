"""Failure demand's causing department on random organisations with failure demand planted
(etl/sample/organisations.py: demand()): a few small organisations in every run, and a fuller
run marked generated. docs/methodology.md#failure-demand holds benchmarks/failure_demand.py's
table."""

from __future__ import annotations

import polars as pl
import pytest

from etl.sample import organisations as simulate

#: Two with a transfer loop (1003, 1005); every one has front-line units that cause none.
SMALL = (1003, 1005, 1009)
#: Measured on 30 organisations at scale 0.3 (docs/methodology.md): precision 95.6%, recall
#: 99.9%. The precision lost is the shared customers' genuine second cases, counted as repeats.
MIN_PRECISION, MIN_RECALL = 0.9, 0.99


def _judge(results: pl.DataFrame) -> dict:
    rates = simulate.attribution_rates(results)
    assert rates["pairs_none_planted"] > 0, "some departments cause none of some reason"
    assert set(results.filter(pl.col("planted") > 0)["group"]) == {
        "chase",
        "repeat",
        "transfer_bounce",
    }
    assert rates["precision"] >= MIN_PRECISION, rates
    assert rates["recall"] >= MIN_RECALL, rates
    # Chases and bounces are written on the record; only repeats are guessed at.
    exact = results.filter(pl.col("group") != "repeat")
    assert (exact["found"] == exact["hits"]).all()
    # No department is made the cause of a reason it holds nothing for: a back office causes
    # no repeat or bounce, a front-line unit no chase, a unit outside a loop no bounce.
    wrong = results.filter(
        (pl.col("found") > 0)
        & (
            ((pl.col("function") == "back_office") & (pl.col("group") != "chase"))
            | ((pl.col("function") == "frontline") & (pl.col("group") == "chase"))
            | ((pl.col("group") == "transfer_bounce") & (pl.col("planted") == 0))
        )
    )
    assert wrong.height == 0, wrong
    return rates


def test_the_causing_department_is_found_on_small_random_organisations():
    results = pl.concat([simulate.attribute(seed, scale=0.05) for seed in SMALL])
    rates = _judge(results)
    assert rates["planted"] >= 500


@pytest.mark.generated
def test_the_causing_department_is_found_on_twenty_random_organisations():
    results = pl.concat([simulate.attribute(seed, scale=0.2) for seed in range(1001, 1021)])
    rates = _judge(results)
    assert rates["organisations"] == 20
    # A unit with no planted repeats is called a cause only of a few shared customers' cases.
    invented = results.filter((pl.col("planted") == 0) & (pl.col("found") > 0))
    repeats = results.filter(pl.col("group") == "repeat")
    assert invented["found"].sum() <= 0.03 * repeats["found"].sum()
