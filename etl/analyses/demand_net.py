"""The net of a productivity gain: for a flagged conflict on handle time or contacts per hour,
the agent hours the faster handling saved against the hours the failure demand that followed
took, each with its 95% interval. Method and measured coverage:
docs/methodology.md#the-net-of-a-productivity-gain.

Both come from the same ends of the window as the conflict's moves (its first and last
END_MONTHS months), month by month, from int_handling_demand_month:

- saved = contacts a month x (mean handle time at the start - at the end);
- failure = contacts a month x (failure demand caused per contact at the end - at the start)
  x mean handle time at the end;

with contacts a month the mean of the last END_MONTHS. The two ends of a window are different
calendar months (its first and last six of 24), so where handle time or failure demand per
contact has a season, it is taken out of both first, as kpi_conflicts takes it out of a pair
(`like_with_like`): else a winter start and a summer end would price the season as a gain or a
loss. The intervals are the delta method on
the four means, each month one observation (so the months' own ups and downs count, as they
do in the conflict's Welch intervals), with t on 2 x (END_MONTHS - 1) degrees of freedom.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl
from scipy import stats

from etl.analyses.conflicts import _season
from etl.analyses.thresholds import END_MONTHS, MIN_PERIODS, SEASON_TEST

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
    m1, m2 = early[:, 1].mean(), late[:, 1].mean()
    p1, p2 = early[:, 2].mean(), late[:, 2].mean()
    v_m1, v_p1 = (early[:, 1:].var(axis=0, ddof=1) / len(early)).tolist()
    v_m2, v_p2 = (late[:, 1:].var(axis=0, ddof=1) / len(late)).tolist()
    c1 = float(np.cov(early[:, 1], early[:, 2], ddof=1)[0, 1]) / len(early)
    c2 = float(np.cov(late[:, 1], late[:, 2], ddof=1)[0, 1]) / len(late)
    # The four means' covariance matrix, in the order (m1, m2, p1, p2).
    cov = np.array(
        [
            [v_m1, 0.0, c1, 0.0],
            [0.0, v_m2, 0.0, c2],
            [c1, 0.0, v_p1, 0.0],
            [0.0, c2, 0.0, v_p2],
        ]
    )
    contacts = float(late[:, 0].mean())
    return _priced(contacts, (m1, m2, p1, p2), cov, len(early) + len(late) - 2)


def like_with_like(months: pl.Series, values: np.ndarray) -> dict[str, float] | None:
    """The same figures with the calendar-month pattern taken out of the handle time and the
    failure demand per contact, where either has one (the F-test kpi_conflicts uses, at
    SEASON_TEST; then out of both, as kpi_conflicts does for a pair); None where neither has
    one, or the window does not hold every calendar month twice to tell one from the trend.

    The window's first and last END_MONTHS are different calendar months, so without this a
    winter start and a summer end price the season as a gain or a loss. Each series is fitted
    by least squares on a linear trend and one effect per calendar month; the ends' means of
    the series less its effects are linear in the months, so their covariances (within and
    across the ends and the two series) follow from the fit's residuals, on n - 13 degrees of
    freedom. Contacts keep their months: the hours are at the volume handled.

    values: one row per month of the window, columns as in `net`."""
    seen = months.dt.month().value_counts()["count"]
    n = len(values)
    if n < MIN_PERIODS or seen.len() < 12 or seen.min() < 2:
        return None
    if min(_season(months, values[:, 1])[1], _season(months, values[:, 2])[1]) >= SEASON_TEST:
        return None
    index = (months.dt.year() * 12 + months.dt.month()).to_numpy()
    calendar = months.dt.month().to_numpy() - 1
    dummies = np.zeros((n, 12))
    dummies[np.arange(n), calendar] = 1.0
    design = np.column_stack([(index - index.min()).astype(float), dummies])
    fit = np.linalg.pinv(design)  # 13 x n: each coefficient as weights on the months
    # The season at each month, centred so that taking it out keeps the level, as a linear map.
    centred = np.eye(12) - 1.0 / 12
    without = np.eye(n) - dummies @ centred @ fit[1:]
    ends = np.zeros((2, n))
    ends[0, :END_MONTHS] = 1.0 / END_MONTHS
    ends[1, -END_MONTHS:] = 1.0 / END_MONTHS
    weights = ends @ without  # rows: the first end's mean, the last end's, less the season
    ys = values[:, 1:].T  # rows: handle time, failure demand per contact
    residuals = ys - (design @ (fit @ ys.T)).T
    sigma = residuals @ residuals.T / (n - 13)  # their month-to-month (co)variance
    means = ys @ weights.T  # [[m1, m2], [p1, p2]]
    cov = np.kron(sigma, weights @ weights.T)  # in the order (m1, m2, p1, p2)
    contacts = float(values[-END_MONTHS:, 0].mean())
    return _priced(contacts, (*means[0], *means[1]), cov, n - 13)


def _priced(contacts: float, means: tuple, cov: np.ndarray, df: int) -> dict[str, float]:
    """The three figures at a volume of contacts a month from the four means (m1, m2, p1, p2),
    with 95% intervals by the delta method on the means' covariance, t on df."""
    m1, m2, p1, p2 = (float(m) for m in means)
    k = contacts / 3600.0
    rise = p2 - p1
    figures = {
        "hours_saved": (k * (m1 - m2), k * np.array([1.0, -1.0, 0.0, 0.0])),
        "failure_hours_added": (k * rise * m2, k * np.array([0.0, rise, -m2, m2])),
        "net_hours_lost": (
            k * (rise * m2 - (m1 - m2)),
            k * np.array([-1.0, 1.0 + rise, -m2, m2]),
        ),
    }
    quantile = float(stats.t.ppf(0.975, df))
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
                figures = like_with_like(months["month"], values) or net(
                    values[:END_MONTHS], values[-END_MONTHS:]
                )
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
