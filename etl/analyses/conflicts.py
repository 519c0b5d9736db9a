"""kpi_conflicts: productivity KPIs that improved while a customer outcome worsened.

Each pair of a productivity metric and an outcome, per department and for the organisation,
over its common months: both moved materially and clearly in opposite directions, the season
taken out, associated month on month, and not only the mix of channels. Method and measured
error rates: docs/methodology.md#kpi-conflicts.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import polars as pl
from scipy import stats

from etl.analyses.common import material_change, metric_label
from etl.analyses.thresholds import (
    END_MONTHS,
    FDR,
    MIN_PERIODS,
    MIX_KEPT_SHARE,
    SEASON_TEST,
)
from etl.contract.metrics import METRICS

PRODUCTIVITY = [m for m in METRICS.values() if m.family == "productivity"]
OUTCOMES = [m for m in METRICS.values() if m.family == "outcome"]


def _change(values: np.ndarray, metric: str) -> dict:
    """How a monthly series moved between its first and last END_MONTHS, and if materially."""
    first, last = values[:END_MONTHS], values[-END_MONTHS:]
    change = float(last.mean() - first.mean())
    test = stats.ttest_ind(last, first, equal_var=False)
    interval = test.confidence_interval(0.95)
    clear = bool(interval.low > 0 or interval.high < 0)
    material = abs(change) >= material_change(metric, float(first.mean()))
    sign = 1 if METRICS[metric].better == "higher" else -1
    return {
        "first": float(first.mean()),
        "last": float(last.mean()),
        "change": change,
        "moved": clear and material,
        "better": clear and material and sign * change > 0,
        "worse": clear and material and sign * change < 0,
    }


def _season(months: pl.Series, values: np.ndarray) -> tuple[np.ndarray, float]:
    """The series' calendar-month pattern: least squares on a linear trend and one effect per
    calendar month; the effects (centred, so that taking them out keeps the level) and the
    F-test p-value of there being any (against the trend alone)."""
    index = (months.dt.year() * 12 + months.dt.month()).to_numpy()
    calendar = months.dt.month().to_numpy() - 1
    season = np.zeros((len(values), 12))
    season[np.arange(len(values)), calendar] = 1.0
    trend = (index - index.min()).astype(float)
    full = np.column_stack([trend, season])
    beta, *_ = np.linalg.lstsq(full, values, rcond=None)
    reduced = np.column_stack([np.ones(len(values)), trend])
    gamma, *_ = np.linalg.lstsq(reduced, values, rcond=None)
    rss_full = float(np.sum((values - full @ beta) ** 2))
    rss_reduced = float(np.sum((values - reduced @ gamma) ** 2))
    df = len(values) - 13
    if rss_full <= 1e-12 * max(rss_reduced, 1e-300):
        p_value = 0.0 if rss_reduced > 1e-12 else 1.0
    else:
        p_value = float(stats.f.sf((rss_reduced - rss_full) / 11 / (rss_full / df), 11, df))
    effect = beta[1:] - beta[1:].mean()
    return effect[calendar], p_value


def _association(months: pl.Series, xs: np.ndarray, ys: np.ndarray) -> tuple:
    """Two "higher is better" series with the season taken out when either has one, their
    Spearman correlation, its one-sided p-value (of a correlation this negative or more) and
    whether the season was taken out."""
    season_x, seasonal_x = _season(months, xs)
    season_y, seasonal_y = _season(months, ys)
    # Either series seasonal: the season comes out of both (like with like), at its price.
    fitted = 11 if min(seasonal_x, seasonal_y) < SEASON_TEST else 0
    if fitted:
        xs, ys = xs - season_x, ys - season_y
    rho = stats.spearmanr(xs, ys).statistic
    rho = float(rho) if not math.isnan(rho) else 0.0
    return xs, ys, rho, _association_p(rho, len(xs), fitted), bool(fitted)


def _association_p(rho: float, n: int, fitted: int) -> float:
    """One-sided p-value of a Spearman correlation this negative or more (a conflict is one
    direction). As for a partial correlation, effects fitted out of the series first (the 11
    calendar-month effects) cost their degrees of freedom: n months give n - 2 - fitted."""
    df = n - 2 - fitted
    if abs(rho) >= 1.0:
        return 0.0 if rho < 0 else 1.0
    t = rho * math.sqrt(df / (1.0 - rho * rho))
    return float(stats.t.cdf(t, df))


def _describe(metric: str, move: dict) -> str:
    unit = METRICS[metric].unit
    label = metric_label(metric)
    verb = "rose" if move["change"] > 0 else "fell"
    if unit == "points":
        ends = f"{move['first']:.0f} to {move['last']:.0f}"
        return f"{label} {verb} {abs(move['change']):.0f} points ({ends})"
    if unit == "share":
        return f"{label} {verb} from {move['first']:.0%} to {move['last']:.0%}"
    relative = abs(move["change"]) / (abs(move["first"]) or 1)
    suffix = {"seconds": " s", "hours": " h"}.get(unit, "")
    ends = f"{move['first']:.3g}{suffix} to {move['last']:.3g}{suffix}"
    return f"{label} {verb} {relative:.0%} ({ends})"


def kpi_conflicts(series: pl.DataFrame, channels: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per scope and productivity x outcome pair, flagged only with support.
    `channels` (metric_channel_month's per-channel rows) lets a move be checked at a fixed mix
    of channels; without it, or for a metric without channels, that check is not made."""
    published = series.filter(pl.col("value").is_not_null())
    wide = published.pivot("metric", index=["department_id", "name", "month"], values="value")
    mixes = _Mixes(channels)
    rows = []
    for (department, name), frame in wide.sort("month").group_by(
        ["department_id", "name"], maintain_order=True
    ):
        for p in PRODUCTIVITY:
            for o in OUTCOMES:
                rows.append(_pair(department, name, frame, p.name, o.name, mixes))
    table = pl.DataFrame(rows, schema=_CONFLICT_SCHEMA, orient="row")
    # Only a pair whose two moves are both material and clear can be a conflict, so only those
    # are tested month by month: the screen keeps hundreds of flat pairs out of the adjustment
    # (benchmarks/kpi_conflicts.py measures that false flags stay at target).
    tested = (
        table["p_value"].is_not_null()
        & table["productivity_improved"].fill_null(False)
        & table["outcome_worsened"].fill_null(False)
        & table["within_channels"].fill_null(True)
    )
    q = np.full(table.height, np.nan)
    if tested.any():
        q[tested.to_numpy()] = stats.false_discovery_control(
            table.filter(tested)["p_value"].to_numpy(), method="by"
        )
    table = table.with_columns(pl.Series("q_value", q).fill_nan(None))
    flagged = (
        pl.col("q_value").is_not_null()
        & (pl.col("q_value") < FDR)
        & (pl.col("association") < 0)
        & pl.col("productivity_improved")
        & pl.col("outcome_worsened")
        & pl.col("within_channels").fill_null(True)
    )
    table = table.with_columns(flagged.fill_null(False).alias("flagged"))
    table = table.with_columns(
        pl.when("flagged")
        .then(pl.col("explanation"))
        .otherwise(pl.col("why_not"))
        .alias("explanation")
    ).drop("why_not")
    return _through_totals(table, published)


_CONFLICT_SCHEMA = {
    "scope": pl.String,
    "department_id": pl.String,
    "department_name": pl.String,
    "productivity_metric": pl.String,
    "outcome_metric": pl.String,
    "n_periods": pl.Int64,
    "first_month": pl.Date,
    "last_month": pl.Date,
    "association": pl.Float64,
    "p_value": pl.Float64,
    "productivity_change": pl.Float64,
    "outcome_change": pl.Float64,
    "productivity_improved": pl.Boolean,
    "outcome_worsened": pl.Boolean,
    "season_removed": pl.Boolean,
    "within_channels": pl.Boolean,
    "explanation": pl.String,
    "why_not": pl.String,
}


class _Mixes:
    """Each scope's metrics per channel, to tell a move from a shift in the mix of channels: a
    department whose contacts move from phone to chat gets faster and its customers rate it
    lower with no change in how any channel is served."""

    def __init__(self, channels: pl.DataFrame | None):
        self.channels = {}
        if channels is not None:
            kept = channels.filter(pl.col("value").is_not_null() & (pl.col("n") > 0))
            for (department, metric), frame in kept.group_by(["department_id", "metric"]):
                self.channels[(department, metric)] = frame

    def fixed(self, department: str, metric: str, months: pl.Series) -> np.ndarray | None:
        """The metric at the window's own mix of channels (each channel's share of n over the
        window), month by month; None without two or more channels in every month."""
        frame = self.channels.get((department, metric))
        if frame is None or frame["channel"].n_unique() < 2:
            return None
        frame = frame.filter(pl.col("month").is_in(months.implode()))
        weights = frame.group_by("channel").agg(pl.col("n").sum().alias("w"))
        fixed = (
            frame.join(weights, on="channel")
            .group_by("month")
            .agg(
                ((pl.col("value") * pl.col("w")).sum() / pl.col("w").sum()).alias("fixed"),
                pl.len().alias("channels"),
            )
        )
        joined = months.to_frame().join(fixed, on="month", how="left")
        if joined["fixed"].null_count() or joined["channels"].min() < 2:
            return None
        return joined["fixed"].to_numpy()

    def shift(self, department: str, metric: str, months: pl.Series) -> str:
        """The channel whose share of n moved most between the window's ends, in words."""
        frame = self.channels[(department, metric)].filter(pl.col("month").is_in(months.implode()))
        first, last = months.head(END_MONTHS).implode(), months.tail(END_MONTHS).implode()
        shares = {}
        for end, picked in (("first", first), ("last", last)):
            part = frame.filter(pl.col("month").is_in(picked))
            total = part["n"].sum()
            for channel, n in part.group_by("channel").agg(pl.col("n").sum()).iter_rows():
                shares.setdefault(channel, {"first": 0.0, "last": 0.0})[end] = n / total
        channel = max(shares, key=lambda c: abs(shares[c]["last"] - shares[c]["first"]))
        move = shares[channel]
        return (
            f"{channel} went from {move['first']:.0%} to {move['last']:.0%} of"
            f" {METRICS[metric].n_counts}"
        )

    def holds(
        self, department: str, moves: dict, months: pl.Series, season_removed: bool
    ) -> tuple[bool | None, str | None]:
        """Whether both moves hold at a fixed mix of channels (None: no channels to tell), and
        when not, which channel's share moved. A move holds when, at the fixed mix, it is
        still material and clear and keeps at least MIX_KEPT_SHARE of itself."""
        verdicts = []
        for (metric, side), move in moves.items():
            values = self.fixed(department, metric, months)
            if values is None:
                continue
            if season_removed:
                values = values - _season(months, values)[0]
            fixed = _change(values, metric)
            kept = fixed["change"] / move["change"] if move["change"] else 0.0
            verdicts.append((metric, fixed[side] and kept >= MIX_KEPT_SHARE))
        if not verdicts:
            return None, None
        failing = [metric for metric, held in verdicts if not held]
        if not failing:
            return True, None
        return False, self.shift(department, failing[0], months)


def _pair(department: str, name: str, frame: pl.DataFrame, p: str, o: str, mixes: _Mixes) -> tuple:
    scope = "organisation" if department == "ALL" else "department"
    both = (
        frame.select("month", p, o).drop_nulls()
        if {p, o} <= set(frame.columns)
        else pl.DataFrame(schema={"month": pl.Date, p: pl.Float64, o: pl.Float64})
    )
    n = both.height
    where = "Across the organisation" if department == "ALL" else f"In {name}"
    seen = both["month"].dt.month().value_counts()["count"] if n else pl.Series([0])
    if n < MIN_PERIODS or seen.len() < 12 or seen.min() < 2:
        reason = (
            f"Not assessed: only {n} months with both figures (at least {MIN_PERIODS} needed,"
            " every calendar month twice, to tell a trend from the season)."
        )
        return (
            scope,
            department,
            name,
            p,
            o,
            n,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "",
            reason,
        )
    months = both["month"]
    sign_p = 1 if METRICS[p].better == "higher" else -1
    sign_o = 1 if METRICS[o].better == "higher" else -1
    xs, ys, rho, p_value, season_removed = _association(
        months, sign_p * both[p].to_numpy(), sign_o * both[o].to_numpy()
    )
    xs, ys = sign_p * xs, sign_o * ys
    move_p, move_o = _change(xs, p), _change(ys, o)
    span = f"over {n} months"
    sentence = (
        f"{where}, between the first and last {END_MONTHS} of {n} months (averages),"
        f" {_describe(p, move_p)} while {_describe(o, move_o)}."
    )
    if not move_p["better"]:
        reason = f"Not flagged: {metric_label(p)} did not improve materially {span}."
    elif not move_o["worse"]:
        worse, better = metric_label(o), metric_label(p)
        reason = f"Not flagged: {worse} did not worsen materially while {better} improved."
    elif (
        within := mixes.holds(
            department, {(p, "better"): move_p, (o, "worse"): move_o}, months, season_removed
        )
    )[0] is False:
        reason = (
            f"Not flagged: {metric_label(p)} improved and {metric_label(o)} worsened only through"
            f" the mix of channels ({within[1]}); within the channels they did not both move."
        )
    else:
        reason = (
            f"Not flagged: {metric_label(p)} improved and {metric_label(o)} worsened, but the"
            " months do not move against each other clearly enough once every pair tested is"
            " accounted for."
        )
    return (
        scope,
        department,
        name,
        p,
        o,
        n,
        months.min(),
        months.max(),
        rho,
        p_value,
        move_p["change"],
        move_o["change"],
        move_p["better"],
        move_o["worse"],
        season_removed,
        within[0] if move_p["better"] and move_o["worse"] else None,
        sentence,
        reason,
    )


#: An organisation-wide flag is one department's conflict showing through the totals when that
#: department is flagged on the same pair and carries at least this share of both moves.
THROUGH_TOTALS_SHARE = 0.5

_DRIVER_SCHEMA = {
    "productivity_driver_id": pl.String,
    "productivity_driver_share": pl.Float64,
    "outcome_driver_id": pl.String,
    "outcome_driver_share": pl.Float64,
    "shows_through": pl.String,
    "drivers": pl.String,
}


def _through_totals(table: pl.DataFrame, published: pl.DataFrame) -> pl.DataFrame:
    """The organisation's rows with each move traced to the departments that made it: the
    department with the largest share of the productivity move and of the outcome move, and,
    for a flag one department's own flag explains, that department (shows_through)."""
    flags = set(
        table.filter("flagged")
        .select("department_id", "productivity_metric", "outcome_metric")
        .iter_rows()
    )
    names = dict(table.select("department_id", "department_name").unique().iter_rows())
    drivers = []
    for row in table.iter_rows(named=True):
        if row["scope"] != "organisation" or row["association"] is None:
            drivers.append((None,) * len(_DRIVER_SCHEMA) + (row["explanation"],))
            continue
        p, o = row["productivity_metric"], row["outcome_metric"]
        months = (row["first_month"], row["last_month"], row["season_removed"])
        share_p = _shares(published, p, row["productivity_change"], *months)
        share_o = _shares(published, o, row["outcome_change"], *months)
        driver_p = max(share_p, key=share_p.get) if share_p else None
        driver_o = max(share_o, key=share_o.get) if share_o else None
        through = [
            d for d in share_p
            if (d, p, o) in flags
            and share_p[d] >= THROUGH_TOTALS_SHARE
            and share_o.get(d, 0.0) >= THROUGH_TOTALS_SHARE
        ]  # fmt: skip
        shows = through[0] if row["flagged"] and through else None
        sentence, text = row["explanation"], None
        if row["flagged"]:
            text = _drivers_text(row, share_p, share_o, shows, names)
            # A reader limited to departments sees the sentence without the clause (access).
            sentence = f"{sentence[:-1]}: {text}." if text else sentence
        drivers.append(
            (
                driver_p,
                share_p.get(driver_p),
                driver_o,
                share_o.get(driver_o),
                shows,
                text,
                sentence,
            )
        )
    extra = pl.DataFrame(drivers, schema=_DRIVER_SCHEMA | {"explanation": pl.String}, orient="row")
    return table.drop("explanation").hstack(extra)


def _shares(
    published: pl.DataFrame,
    metric: str,
    change: float,
    first: date,
    last: date,
    season_removed: bool,
) -> dict[str, float]:
    """Each department's share of the organisation's move of a metric between the first and
    last END_MONTHS of the window: the organisation's monthly figure is the departments' mean
    weighted by their n, so each department's term n * value / total n moves by its share.
    Empty when the departments' terms do not add up to a move the organisation's way."""
    frame = published.filter(
        (pl.col("metric") == metric)
        & (pl.col("department_id") != "ALL")
        & pl.col("month").is_between(first, last)
        & (pl.col("n") > 0)
    )
    if frame.is_empty():
        return {}
    frame = frame.with_columns(term=pl.col("n") * pl.col("value") / pl.col("n").sum().over("month"))
    months = frame.select("month").unique().sort("month")["month"]
    terms = (
        frame.pivot("department_id", index="month", values="term")
        .join(months.to_frame(), on="month", how="right")
        .sort("month")
        .fill_null(0.0)
    )
    moves = {}
    for department in (c for c in terms.columns if c != "month"):
        values = terms[department].to_numpy()
        if season_removed:
            values = values - _season(terms["month"], values)[0]
        moves[department] = float(values[-END_MONTHS:].mean() - values[:END_MONTHS].mean())
    total = sum(moves.values())
    if total == 0 or change is None or total * change <= 0:
        return {}
    return {department: move / total for department, move in moves.items()}


def _drivers_text(
    row: dict, share_p: dict, share_o: dict, shows: str | None, names: dict
) -> str | None:
    """Who made each move of a flag, one clause that ends its sentence; None when unknown."""
    p, o = row["productivity_metric"], row["outcome_metric"]
    part_p = _move_part(p, row["productivity_change"])
    part_o = _move_part(o, row["outcome_change"])
    if shows is not None:
        return (
            f"this is {names[shows]}'s conflict showing through the totals"
            f" ({_share(share_p[shows])} {part_p}, {_share(share_o[shows])} {part_o})"
        )
    clauses = []
    for shares, part in ((share_p, part_p), (share_o, part_o)):
        if shares:
            top = max(shares, key=shares.get)
            lead = "mostly" if shares[top] >= THROUGH_TOTALS_SHARE else "the largest share from"
            clauses.append(f"{lead} {names.get(top, top)} ({_share(shares[top])} {part})")
    return " and ".join(clauses) or None


def _share(share: float) -> str:
    """62% of; a share over the whole (others moved the other way) is all of the move."""
    return "all of" if share >= 0.995 else f"{share:.0%} of"


def _move_part(metric: str, change: float) -> str:
    return f"the {'rise' if change > 0 else 'fall'} in {metric_label(metric)}"
