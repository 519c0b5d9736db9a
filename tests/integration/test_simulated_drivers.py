"""nps_drivers on random organisations with planted effects (etl/sample/driver_series.py): a
reduced run of benchmarks/drivers.py, whose 300-organisation rates are in
docs/methodology.md#nps_drivers-what-moves-nps."""

from __future__ import annotations

from etl.sample.driver_series import evaluate


def test_intervals_hold_the_planted_effects_and_noise_is_not_called_an_effect():
    rates = evaluate(range(12))
    assert rates["coverage"] >= 0.90, rates
    assert rates["false_effect"] <= 0.10, rates
    assert rates["no_effect_flagged"] >= 0.85, rates
    assert rates["power"] >= 0.5, rates
    assert rates["top_driver"] >= 0.65, rates
