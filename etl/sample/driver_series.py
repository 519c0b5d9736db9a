"""Survey answers linked to cases, with planted driver effects, to measure nps_drivers.

Each random organisation has a few departments of random size (some below the analysis'
minimum) and a random base NPS. Its cases get the drivers of nps_driver_answers at random
rates, correlated as a contact centre's are: a repeat contact is likelier after an
unresolved first contact, a broken promise only on a case handed to a back office, a long and
a short call exclude each other. Each answer's NPS points (100, 0, -100) are drawn so that
their expected value is the base plus the planted effects of its case's drivers, in NPS
points:

- ``promise_broken`` -45, ``unresolved_first_contact`` -30 and ``transferred`` -12, always;
- ``long_wait`` 0, always: the driver with no effect at all;
- ``repeat_contact`` one of 0, -5 and -10, and each other driver 0, at random per
  organisation.

A fifth of the answers are passives whatever the drivers, so the planted effects hold exactly
(the expected points are linear in the drivers, and stay within -80 and 80).
benchmarks/drivers.py runs hundreds of organisations;
docs/methodology.md#nps_drivers-what-moves-nps holds the measured rates.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from etl.analyses.drivers import DRIVERS

#: The planted effects every organisation has, in NPS points.
FIXED = {"promise_broken": -45.0, "unresolved_first_contact": -30.0, "transferred": -12.0}
NO_EFFECT = "long_wait"
PASSIVE_SHARE = 0.2


def organisation(seed: int) -> tuple[pl.DataFrame, dict[str, float]]:
    """One organisation's linked answers (as nps_driver_answers holds them) and the planted
    effect of every driver."""
    rng = np.random.default_rng(seed)
    effects = {d: 0.0 for d in DRIVERS} | FIXED
    effects["repeat_contact"] = float(rng.choice([0.0, -5.0, -10.0]))
    departments = [f"D{i}" for i in range(int(rng.integers(2, 5)))]
    sizes = np.exp(rng.uniform(np.log(100), np.log(8000), len(departments))).astype(int)
    frames = [
        _department(rng, name, int(n), effects) for name, n in zip(departments, sizes, strict=True)
    ]
    return pl.concat(frames), effects


def _department(rng, name: str, n: int, effects: dict[str, float]) -> pl.DataFrame:
    unresolved = rng.random(n) < rng.uniform(0.15, 0.5)
    handed = rng.random(n) < rng.uniform(0.1, 0.4)
    long_handle = rng.random(n) < 0.25
    drivers = {
        "unresolved_first_contact": unresolved,
        "repeat_contact": rng.random(n) < np.where(unresolved, 0.3, 0.05),
        "transferred": rng.random(n) < rng.uniform(0.05, 0.3),
        "promise_broken": handed & (rng.random(n) < rng.uniform(0.1, 0.4)),
        "handed_off": handed,
        "resolved_after_a_week": handed & (rng.random(n) < 0.1),
        "long_wait": rng.random(n) < 0.5,
        "long_handle": long_handle,
        "short_handle": ~long_handle & (rng.random(n) < 1 / 3),
    }
    expected = rng.uniform(20, 40) + sum(effects[d] * x for d, x in drivers.items())
    promoter = (1 - PASSIVE_SHARE) / 2 + expected / 200
    draw = rng.random(n)
    points = np.where(draw < promoter, 100, np.where(draw < promoter + PASSIVE_SHARE, 0, -100))
    return pl.DataFrame(
        {"department_id": [name] * n, "nps_points": points.astype(np.int64)}
        | {d: x.astype(bool) for d, x in drivers.items()}
    )


def evaluate(seeds) -> dict[str, float]:
    """nps_drivers on the organisations of seeds, against their planted effects:

    - coverage: share of weighed (scope, driver) intervals that hold the planted effect;
    - false_effect: share of drivers planted at 0 that were called lower or higher NPS;
    - no_effect_flagged: share of scopes where long_wait (always 0) is "no clear effect";
    - power: share of drivers planted at -10 or beyond that were called lower NPS;
    - top_driver: share of scopes whose most important driver is the planted most important
      (the largest planted effect^2 x prevalence x (1 - prevalence) in that scope).
    """
    from etl.analyses.drivers import nps_drivers

    tally = {
        k: [] for k in ("coverage", "false_effect", "no_effect_flagged", "power", "top_driver")
    }
    for seed in seeds:
        answers, effects = organisation(seed)
        result = nps_drivers(answers, {}, {}).filter(pl.col("nps_gap").is_not_null())
        for _, rows in result.group_by("department_id"):
            for row in rows.iter_rows(named=True):
                planted = effects[row["driver"]]
                tally["coverage"].append(row["nps_gap_ci_low"] <= planted <= row["nps_gap_ci_high"])
                clear = row["verdict"] in ("lower NPS", "higher NPS")
                if planted == 0:
                    tally["false_effect"].append(clear)
                if planted <= -10:
                    tally["power"].append(row["verdict"] == "lower NPS")
                if row["driver"] == NO_EFFECT:
                    tally["no_effect_flagged"].append(row["verdict"] == "no clear effect")
            spread = rows.with_columns(
                (
                    pl.col("driver").replace_strict(effects, return_dtype=pl.Float64) ** 2
                    * pl.col("prevalence")
                    * (1 - pl.col("prevalence"))
                ).alias("planted")
            )
            tally["top_driver"].append(
                spread.sort("planted")["driver"][-1] == spread.sort("importance")["driver"][-1]
            )
    return {k: float(np.mean(v)) for k, v in tally.items()} | {
        "organisations": len(list(seeds)),
        "intervals": len(tally["coverage"]),
    }
