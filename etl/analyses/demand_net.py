"""The net of a productivity gain: for a flagged conflict on handle time or contacts per hour,
the agent hours the faster handling saved against the hours the failure demand that followed
took, each with its 95% interval. Method and measured coverage:
docs/methodology.md#the-net-of-a-productivity-gain.

Both come from the same ends of the window as the conflict's moves (its first and last
END_MONTHS months), month by month, from int_handling_demand_month:

- saved = contacts a month x (mean handle time at the start - at the end);
- failure = contacts a month x (failure demand caused per contact at the end - at the start)
  x mean handle time at the end;

with contacts a month the mean of the last END_MONTHS. The intervals are the delta method on
the four means, each month one observation (so the months' own ups and downs count, as they
do in the conflict's Welch intervals), with t on 2 x (END_MONTHS - 1) degrees of freedom.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from etl.analyses.thresholds import END_MONTHS

#: The productivity metrics a faster handling moves.
HANDLING_METRICS = ("aht_seconds", "contacts_per_hour")

_NET_SCHEMA = {
    "hours_saved": pl.Float64,
    "hours_saved_ci_low": pl.Float64,
    "hours_saved_ci_high": pl.Float64,
    "failure_hours_added": pl.Float64,
    "failure_hours_added_ci_low": pl.Float64,
    "failure_hours_added_ci_high": pl.Float64,
    "net_hours_lost": pl.Float64,
    "net_hours_lost_ci_low": pl.Float64,
    "net_hours_lost_ci_high": pl.Float64,
    "net_sentence": pl.String,
}


def net(early: np.ndarray, late: np.ndarray) -> dict[str, float] | None:
    """The hours saved, the failure hours added and the net lost, a month, with 95% intervals.

    early and late: one row per month of each end, columns contacts, mean handle seconds and
    failure demand caused per contact. None with fewer than two months at either end."""
    if len(early) < 2 or len(late) < 2:
        return None
    contacts = float(late[:, 0].mean())
    m1, m2 = early[:, 1].mean(), late[:, 1].mean()
    p1, p2 = early[:, 2].mean(), late[:, 2].mean()
    v_m1, v_p1 = (early[:, 1:].var(axis=0, ddof=1) / len(early)).tolist()
    v_m2, v_p2 = (late[:, 1:].var(axis=0, ddof=1) / len(late)).tolist()
    c1 = float(np.cov(early[:, 1], early[:, 2], ddof=1)[0, 1]) / len(early)
    c2 = float(np.cov(late[:, 1], late[:, 2], ddof=1)[0, 1]) / len(late)
    k = contacts / 3600.0
    rise = p2 - p1
    # Gradients of each figure in (m1, m2, p1, p2), and the means' covariance matrix.
    cov = np.array(
        [
            [v_m1, 0.0, c1, 0.0],
            [0.0, v_m2, 0.0, c2],
            [c1, 0.0, v_p1, 0.0],
            [0.0, c2, 0.0, v_p2],
        ]
    )
    figures = {
        "hours_saved": (k * (m1 - m2), k * np.array([1.0, -1.0, 0.0, 0.0])),
        "failure_hours_added": (k * rise * m2, k * np.array([0.0, rise, -m2, m2])),
        "net_hours_lost": (
            k * (rise * m2 - (m1 - m2)),
            k * np.array([-1.0, 1.0 + rise, -m2, m2]),
        ),
    }
    quantile = float(stats.t.ppf(0.975, len(early) + len(late) - 2))
    out = {}
    for name, (value, gradient) in figures.items():
        half = quantile * math.sqrt(max(float(gradient @ cov @ gradient), 0.0))
        out |= {name: float(value), f"{name}_ci_low": value - half, f"{name}_ci_high": value + half}
    return out


def sentence(who: str, metric: str, figures: dict[str, float]) -> str:
    """One plain sentence: what the faster handling saved, what the failure demand after it
    took, and the net, saying plainly when the interval cannot tell a loss from a gain."""
    saved, added, lost = (
        figures[n] for n in ("hours_saved", "failure_hours_added", "net_hours_lost")
    )
    low, high = figures["net_hours_lost_ci_low"], figures["net_hours_lost_ci_high"]
    doing = "shorter contacts" if metric == "aht_seconds" else "faster handling"
    if saved <= 0:
        return (
            f"{who}'s mean handle time did not fall over the window, so there are no agent"
            " hours saved to set against failure demand."
        )
    first = (
        f"{who}'s {doing} saved {_hours(saved)} agent hours a month"
        f" ({_range(figures, 'hours_saved')})"
    )
    if added >= 0:
        second = (
            f"the extra failure demand they caused took {_hours(added)} hours"
            f" ({_range(figures, 'failure_hours_added')})"
        )
    else:
        second = (
            f"the failure demand they caused fell, taking {_hours(-added)} hours fewer"
            f" ({_range(figures, 'failure_hours_added', -1)})"
        )
    if low <= 0 <= high:
        third = (
            "and we can't tell whether the gain paid for itself (the net lies somewhere between"
            f" a loss of {_hours(high)} and a gain of {_hours(-low)} hours a month)"
        )
    elif lost > 0:
        third = f"a net loss of {_hours(lost)} hours a month ({_interval(low, high)})"
    else:
        third = f"a net gain of {_hours(-lost)} hours a month ({_interval(-high, -low)})"
    # No colon: a reader limited to departments sees an organisation's sentence cut at one.
    return f"{first}; {second}, {third}."


def _hours(value: float) -> str:
    return f"{value:,.0f}".replace("-", "−")


def _interval(low: float, high: float) -> str:
    return f"95% interval {_hours(low)} to {_hours(high)}"


def _range(figures: dict[str, float], name: str, sign: int = 1) -> str:
    """The 95% interval of a figure, or of its opposite (sign -1), low end first, saying so
    when it holds zero."""
    low, high = sorted(sign * figures[f"{name}_ci_{end}"] for end in ("low", "high"))
    unclear = ", which we can't tell from none" if low <= 0 <= high else ""
    return f"{_interval(low, high)}{unclear}"


def demand_net(conflicts: pl.DataFrame, handling: pl.DataFrame) -> pl.DataFrame:
    """kpi_conflicts with the net of each flagged handle-time or contacts-per-hour conflict
    in its own columns and at the end of its explanation; other rows get NULLs.

    handling: int_handling_demand_month (department_id, month, contacts, handle_seconds_mean,
    caused_per_contact)."""
    kept = handling.filter((pl.col("contacts") > 0) & pl.col("handle_seconds_mean").is_not_null())
    rows = []
    for row in conflicts.iter_rows(named=True):
        figures = None
        if row["flagged"] and row["productivity_metric"] in HANDLING_METRICS:
            months = kept.filter(
                (pl.col("department_id") == row["department_id"])
                & pl.col("month").is_between(row["first_month"], row["last_month"])
            ).sort("month")
            values = months.select(
                pl.col("contacts").cast(pl.Float64),
                "handle_seconds_mean",
                pl.col("caused_per_contact").cast(pl.Float64),
            ).to_numpy()
            if len(values) >= 2 * END_MONTHS:
                figures = net(values[:END_MONTHS], values[-END_MONTHS:])
        if figures is None:
            rows.append((None,) * len(_NET_SCHEMA))
            continue
        who = "The organisation" if row["department_id"] == "ALL" else row["department_name"]
        text = sentence(who, row["productivity_metric"], figures)
        rows.append((*(figures[n] for n in list(_NET_SCHEMA)[:-1]), text))
    extra = pl.DataFrame(rows, schema=_NET_SCHEMA, orient="row")
    table = conflicts.hstack(extra)
    # The net follows the conflict's sentence; a reader limited to departments still sees the
    # sentence without the clause that names its departments (access replaces it in place).
    return table.with_columns(
        pl.when(pl.col("net_sentence").is_not_null())
        # one sentence still: the conflict's, then the hours after a semicolon
        .then(
            pl.concat_str(
                [pl.col("explanation").str.strip_suffix("."), pl.lit("; "), "net_sentence"]
            )
        )
        .otherwise("explanation")
        .alias("explanation")
    ).drop("net_sentence")
