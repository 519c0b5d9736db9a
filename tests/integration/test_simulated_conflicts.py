"""kpi_conflicts on random organisations' series it was never tuned to
(etl/sample/conflict_series.py): a reduced run of benchmarks/kpi_conflicts.py, so that a
regression in the flags fails CI."""

from __future__ import annotations

import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor

import polars as pl
import pytest

from etl.sample import conflict_series as simulate_conflicts

pytestmark = pytest.mark.generated

ORGANISATIONS = range(2001, 2013)


def _judge(seed: int) -> pl.DataFrame:
    warnings.simplefilter("ignore")  # scipy's notes on constant series
    return simulate_conflicts.judge(seed)


@pytest.fixture(scope="module")
def results() -> pl.DataFrame:
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pl.concat(list(pool.map(_judge, ORGANISATIONS)))


def test_the_organisations_hold_decoys_of_every_kind():
    kinds = pl.concat([simulate_conflicts.organisation(s)[1] for s in ORGANISATIONS])["kind"]
    assert set(kinds) == set(simulate_conflicts.KINDS)
    assert (kinds == "seasonal").sum() >= 5 and (kinds == "channel_mix").sum() >= 3


def test_planted_conflicts_are_found(results):
    rates = simulate_conflicts.rates(results)
    assert rates["planted"] >= 15
    assert rates["found"] >= 0.9 * rates["planted"]  # 98.8% measured over 200 organisations


def test_noise_and_decoys_almost_never_flag_and_seasons_never(results):
    rates = simulate_conflicts.rates(results)
    assert rates["false_department_flags"] <= 1
    assert rates["false_in_seasonal"] == 0
    assert rates["false_in_channel_mix"] == 0
