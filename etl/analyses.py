"""The analyses: conflicting KPIs, department value, EX-CX linkage, initiatives.

SQL marts do the heavy aggregation; this module runs the statistics (scipy) on the small
monthly tables and writes kpi_conflicts, department_value, ex_cx_linkage and
initiative_effects back into the warehouse. Methods and thresholds: docs/methodology.md#analyses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from etl.metrics import METRICS, MIN_N_ENGAGEMENT_GROUP, MIN_N_SURVEY, Z_95
from etl.thresholds import (  # noqa: F401 (each is also read as analyses.<name>)
    BASELINE_MONTHS,
    BASELINE_SKIP,
    BROKEN_PROMISES_SHARE,
    DURABLE_SHARE,
    EARLY_MONTH,
    END_MONTHS,
    FDR,
    LATE_MONTHS,
    LINKAGE_END_WAVES,
    LINKAGE_LAG_MONTHS,
    MATERIAL_EMPOWERMENT_CHANGE,
    MATERIAL_HOURS_FLOOR,
    MATERIAL_NPS_GAP,
    MATERIAL_OUTCOME_CHANGE,
    MATERIAL_RELATIVE_CHANGE,
    MIN_BASELINE_MONTHS,
    MIN_COMPARISONS,
    MIN_PERIODS,
    MIN_WAVES,
    MIX_KEPT_SHARE,
    REFERENCE_PASSES,
    SEASON_TEST,
    TARGETS_MET_SHARE,
    VALUE_WINDOW_MONTHS,
)

PRODUCTIVITY = [m for m in METRICS.values() if m.family == "productivity"]
OUTCOMES = [m for m in METRICS.values() if m.family == "outcome"]


def build(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Compute every analysis from the marts and store it as a table; the tables written."""
    series = con.sql(
        "SELECT m.department_id, coalesce(d.department_name, 'the organisation') AS name,"
        " m.month, m.metric, m.value, m.n, m.ci_low, m.ci_high FROM metric_month m"
        " LEFT JOIN stg_departments d USING (department_id) ORDER BY ALL"
    ).pl()
    channels = con.sql(
        "SELECT department_id, channel, month, metric, value, n FROM metric_channel_month"
        " WHERE channel <> 'all' ORDER BY ALL"
    ).pl()
    tables = {
        "kpi_conflicts": kpi_conflicts(series, channels),
        "department_value": department_value(con),
        "ex_cx_linkage": ex_cx_linkage(
            series, con.sql("SELECT * FROM int_linkage_outcome_month ORDER BY ALL").pl()
        ),
    }
    initiatives = con.sql(
        "SELECT initiative_id, initiative_name, department_id, started_on, metric"
        " FROM stg_initiatives ORDER BY initiative_id"
    ).pl()
    tables["initiative_effects"] = initiative_effects(initiatives, series, tables["kpi_conflicts"])
    for name, frame in tables.items():
        con.register("analysis", frame.to_arrow())
        con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM analysis")
        con.unregister("analysis")
    return list(tables)


# --- kpi_conflicts -------------------------------------------------------------------------


def _label(metric: str) -> str:
    return METRICS[metric].label


def material_change(metric: str, level: float) -> float:
    """The smallest change of a metric from this level that counts as material."""
    unit, family = METRICS[metric].unit, METRICS[metric].family
    fixed = MATERIAL_OUTCOME_CHANGE.get(unit) if family == "outcome" else None
    if fixed is not None:
        return fixed
    relative = MATERIAL_RELATIVE_CHANGE * (abs(level) or 1.0)
    return (
        max(relative, MATERIAL_HOURS_FLOOR) if unit == "hours" and family == "outcome" else relative
    )


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
    label = _label(metric)
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
    sentence = f"{where}, {_describe(p, move_p)} {span} while {_describe(o, move_o)}."
    if not move_p["better"]:
        reason = f"Not flagged: {_label(p)} did not improve materially {span}."
    elif not move_o["worse"]:
        reason = f"Not flagged: {_label(o)} did not worsen materially while {_label(p)} improved."
    elif (
        within := mixes.holds(
            department, {(p, "better"): move_p, (o, "worse"): move_o}, months, season_removed
        )
    )[0] is False:
        reason = (
            f"Not flagged: {_label(p)} improved and {_label(o)} worsened only through the mix of"
            f" channels ({within[1]}); within the channels they did not both move."
        )
    else:
        reason = (
            f"Not flagged: {_label(p)} improved and {_label(o)} worsened, but the months do not "
            "move against each other clearly enough once every pair tested is accounted for."
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
    return f"the {'rise' if change > 0 else 'fall'} in {_label(metric)}"


# --- department_value ----------------------------------------------------------------------

#: How a unit answers for its cases: the front line and support for the cases they opened and
#: kept, a back office for the cases it worked on after another unit opened them.
_ROLE = {"frontline": "kept", "support": "kept", "back_office": "handler"}
_UNITS = {
    "frontline": ("front-line unit", "front-line units"),
    "back_office": ("back-office unit", "back-office units"),
    "support": ("support unit", "support units"),
}


@dataclass(frozen=True)
class CaseModel:
    """A fitted case-level model: each answer's NPS value (+100, 0, -100) explained by the unit
    that opened the case, the units that worked on it after ("handler"), its channel and its
    month. The opening unit has one effect on all its cases ("origin"), or, split, one on the
    cases it kept ("kept") and one on those it passed on ("handed")."""

    columns: dict[tuple[str, str], int]
    beta: np.ndarray
    cov: np.ndarray
    gram: np.ndarray
    gram_inverse: np.ndarray

    def contrast(self, unit: tuple[str, str], others: list[tuple[str, str]]) -> tuple | None:
        """The unit's effect minus the mean of the others' and its standard error; None when
        the data cannot separate them (the contrast is not estimable)."""
        c = np.zeros(len(self.beta))
        c[self.columns[unit]] = 1.0
        for other in others:
            c[self.columns[other]] -= 1.0 / len(others)
        # Estimable if c lies in the row space of the design: c G^+ G = c.
        if not np.allclose(c @ self.gram_inverse @ self.gram, c, atol=1e-6):
            return None
        return float(c @ self.beta), float(math.sqrt(max(c @ self.cov @ c, 0.0)))


def fit_case_model(cells: pl.DataFrame, split: bool) -> CaseModel | None:
    """Least squares on the answers, computed from cell counts, with a robust (HC1) covariance;
    tests/unit/test_case_model.py holds it equal to statsmodels' OLS on the answers one by one.

    split=True gives each opening unit separate effects on the cases it kept and those it
    passed on, to judge the front line on the cases it kept; split=False one effect on all its
    cases, so that a back office fed by one unit is still judged net of that unit's effect."""
    cells = cells.filter(pl.col("answers") > 0)
    if cells.is_empty():
        return None
    handlers = pl.concat([cells["first_handler_id"], cells["second_handler_id"]]).drop_nulls()
    handed = cells["first_handler_id"].is_not_null()
    if split:
        keys = [("kept", v) for v in sorted(cells.filter(~handed)["origin_department_id"].unique())]
        keys += [
            ("handed", v) for v in sorted(cells.filter(handed)["origin_department_id"].unique())
        ]
    else:
        keys = [("origin", v) for v in sorted(cells["origin_department_id"].unique())]
    keys += [("handler", v) for v in sorted(handlers.unique())]
    keys += [("channel", v) for v in sorted(cells["channel"].unique())[1:]]
    keys += [("month", str(v)) for v in sorted(cells["month"].unique())[1:]]
    columns = {key: i for i, key in enumerate(keys)}
    x = np.zeros((cells.height, len(keys)))
    for row, cell in enumerate(cells.iter_rows(named=True)):
        opened = "origin" if not split else "handed" if cell["first_handler_id"] else "kept"
        for key in (
            (opened, cell["origin_department_id"]),
            ("handler", cell["first_handler_id"]),
            ("handler", cell["second_handler_id"]),
            ("channel", cell["channel"]),
            ("month", str(cell["month"])),
        ):
            if key in columns:
                x[row, columns[key]] = 1.0
    n = cells["answers"].to_numpy().astype(float)
    total = 100.0 * (cells["promoters"] - cells["detractors"]).to_numpy()
    squares = 10_000.0 * (cells["promoters"] + cells["detractors"]).to_numpy()
    gram = x.T @ (x * n[:, None])
    gram_inverse = np.linalg.pinv(gram)
    beta = gram_inverse @ (x.T @ total)
    fitted = x @ beta
    # Each cell's sum of squared residuals over its answers, from its sums: no answer is needed.
    residuals = np.maximum(squares - 2 * fitted * total + n * fitted**2, 0.0)
    meat = x.T @ (x * residuals[:, None])
    answers, rank = n.sum(), np.linalg.matrix_rank(gram)
    cov = gram_inverse @ meat @ gram_inverse * answers / max(answers - rank, 1)
    return CaseModel(columns, beta, cov, gram, gram_inverse)


def department_value(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per department: its cases against the other units of its function taken
    together (case-level model), the customer's promise while it held cases, its verdict.

    The reference is ordinary work. A unit that breaks most of the promises it holds is left
    out of every reference. A first pass sets each unit against all the others that keep their
    promises; each later pass (REFERENCE_PASSES at most) leaves out the units the previous one
    showed materially worse, and those it showed materially better while they are a minority
    (_tails), as a trimmed mean leaves out its tails but never its middle.
    """
    groups = con.sql(
        "SELECT g.*, d.department_name FROM int_department_value_groups g"
        " JOIN stg_departments d USING (department_id) ORDER BY department_id"
    ).pl()
    # In a fixed order, so that a rebuild gives the same figures to the last bit.
    cells = con.sql("SELECT * FROM int_department_value_cells ORDER BY ALL").pl()
    models = {
        "kept": fit_case_model(cells, split=True),
        "handler": fit_case_model(cells, split=False),
    }
    targets = _targets(con)
    units = list(groups.iter_rows(named=True))
    failing = {g["department_id"] for g in units if _promise(g)["fails"]}
    first = {g["department_id"]: _gap(g, units, models, failing) for g in units}
    outliers = failing | _tails(units, first)
    for _ in range(REFERENCE_PASSES):
        gaps = {g["department_id"]: _final_gap(g, units, models, first, outliers) for g in units}
        again = failing | _tails(units, gaps)
        if again == outliers:
            break
        outliers = again
    rows = [_value_row(g, gaps[g["department_id"]], _hours_added(g, units), targets) for g in units]
    return pl.DataFrame(rows, schema=_VALUE_SCHEMA, orient="row")


def _tails(units: list[dict], gaps: dict[str, dict]) -> set[str]:
    """Units to leave out of the reference: per function, those shown materially worse, and
    those shown materially better while they are fewer than the units in between (excellent
    units are rare; when most units look better than the rest, the rest are what failed)."""
    left_out = set()
    for function in {g["department_function"] for g in units}:
        ids = [g["department_id"] for g in units if g["department_function"] == function]
        worse = {d for d in ids if _worse(gaps[d])}
        better = {d for d in ids if _better(gaps[d])}
        body = [d for d in ids if gaps[d]["gap"] is not None and d not in worse | better]
        left_out |= worse | (better if len(better) < len(body) else set())
    return left_out


def _worse(gap: dict) -> bool:
    """Materially worse: the whole interval beyond the margin below zero."""
    return gap["gap"] is not None and gap["high"] <= -MATERIAL_NPS_GAP


def _better(gap: dict) -> bool:
    """Materially better: the whole interval beyond the margin above zero."""
    return gap["gap"] is not None and gap["low"] >= MATERIAL_NPS_GAP


def _final_gap(group: dict, units: list[dict], models, first: dict, outliers: set[str]) -> dict:
    """The gap to the ordinary units of its function. With none left, the first pass (all that
    keep their promises) or, with none of those either, the failing ones may still show it
    worse. Being better than units that are themselves out of the ordinary says nothing: when
    the only units to compare with differ, failure is likelier than excellence."""
    gap = _gap(group, units, models, outliers)
    if gap["reason"] != "reference":
        return gap
    earlier = first[group["department_id"]]
    if earlier["reason"] != "reference":
        return earlier if _worse(earlier) else earlier | {"reason": "outliers"}
    against_failing = _gap(group, units, models, set())
    return against_failing if _worse(against_failing) else gap


def _targets(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    rows = con.execute(
        "SELECT department_id, count(*), count(*) FILTER (WHERE is_met)"
        " FROM int_target_attainment WHERE is_own_target"
        " AND month > (SELECT max(month) FROM int_target_attainment) - to_months($w)"
        " GROUP BY department_id",
        {"w": VALUE_WINDOW_MONTHS},
    ).fetchall()
    return {d: (n, met) for d, n, met in rows}


_VALUE_SCHEMA = {
    "department_id": pl.String,
    "department_name": pl.String,
    "department_function": pl.String,
    "customer_touch_share": pl.Float64,
    "cases_touched": pl.Int64,
    "reference_units": pl.Int64,
    "reference_ids": pl.List(pl.String),
    "nps_touched": pl.Float64,
    "nps_touched_n": pl.Int64,
    "nps_gap": pl.Float64,
    "nps_gap_ci_low": pl.Float64,
    "nps_gap_ci_high": pl.Float64,
    "promise_kept_touched": pl.Float64,
    "cases_held": pl.Int64,
    "promises_held": pl.Int64,
    "promises_broken_while_held": pl.Int64,
    "promise_kept_held": pl.Float64,
    "promise_kept_held_ci_low": pl.Float64,
    "promise_kept_held_ci_high": pl.Float64,
    "hours_beyond_promise": pl.Float64,
    "chasing_contacts": pl.Int64,
    "hours_added": pl.Float64,
    "hours_added_ci_low": pl.Float64,
    "hours_added_ci_high": pl.Float64,
    "own_target_months": pl.Int64,
    "own_target_attainment": pl.Float64,
    "verdict": pl.String,
    "explanation": pl.String,
}


def _nps(group: dict) -> float | None:
    if group["answers"] < MIN_N_SURVEY:
        return None
    return 100 * (group["promoters"] - group["detractors"]) / group["answers"]


def _kept(group: dict) -> float | None:
    return 1 - group["promises_broken"] / group["promises"] if group["promises"] else None


def _promise(group: dict) -> dict:
    """The promises it held: share kept while it held them, a 95% Wilson interval, and
    whether it broke most of them beyond doubt (the upper end of the kept share below half)."""
    held, broken = group["promises_held"], group["promises_broken_while_held"]
    if not held:
        return {"kept": None, "low": None, "high": None, "fails": False}
    interval = stats.binomtest(held - broken, held).proportion_ci(method="wilson")
    return {
        "kept": (held - broken) / held,
        "low": interval.low,
        "high": interval.high,
        "fails": interval.high < 1 - BROKEN_PROMISES_SHARE,
    }


def _reference(group: dict, units: list[dict], model: CaseModel, failing: set[str]) -> list:
    """The other units of its function, not shown to fail their customers, with enough answers
    in the same role, that the data can set it against (the contrast is estimable: for a back
    office, the units feeding either keep cases of their own or feed both)."""
    role = _ROLE[group["department_function"]]
    unit = (role, group["department_id"])
    return [
        (role, g["department_id"])
        for g in units
        if g["department_function"] == group["department_function"]
        and g["department_id"] != group["department_id"]
        and g["department_id"] not in failing
        and g["answers"] >= MIN_N_SURVEY
        and (role, g["department_id"]) in model.columns
        and model.contrast(unit, [(role, g["department_id"])]) is not None
    ]


def _gap(group: dict, units: list[dict], models: dict, failing: set[str]) -> dict:
    """Its NPS gap to the other units of its function taken together, with a 95% interval,
    or why there is none (models: the case model for each role, fit_case_model)."""
    function = group["department_function"]
    unit = (_ROLE[function], group["department_id"])
    model = models[unit[0]]
    found = {
        "units": 0, "ids": [], "gap": None, "low": None, "high": None, "why": None, "reason": None
    }  # fmt: skip
    if not group["cases"]:
        return found
    if group["answers"] < MIN_N_SURVEY or model is None or unit not in model.columns:
        found["why"] = (
            f"{group['answers']} survey answers on its cases in the last {VALUE_WINDOW_MONTHS}"
            f" months, fewer than the {MIN_N_SURVEY} needed"
        )
        found["reason"] = "answers"
        return found
    reference = _reference(group, units, model, failing)
    found["units"], found["ids"] = len(reference), [d for _, d in reference]
    if not reference:
        where = ", and whose cases can be set against its own" if function == "back_office" else ""
        found["why"] = (
            f"no other {_UNITS[function][0]} with {MIN_N_SURVEY} survey answers that is not"
            f" itself failing its customers{where}"
        )
        found["reason"] = "reference"
        return found
    gap, se = model.contrast(unit, reference)
    found.update(gap=gap, low=gap - Z_95 * se, high=gap + Z_95 * se)
    return found


def _hours_added(group: dict, units: list[dict]) -> tuple:
    """Mean extra hours to resolve its cases against the other units of its function pooled,
    with a Welch 95% interval, from exact integer sums (so every engine gives the same)."""
    others = [
        g
        for g in units
        if g["department_function"] == group["department_function"]
        and g["department_id"] != group["department_id"]
    ]
    n, total, squares = (int(group[c]) for c in _SUMS)
    n_o, total_o, squares_o = (sum(int(g[c]) for g in others) for c in _SUMS)
    if n < 2 or n_o < 2:
        return (None, None, None)
    diff = (total / n - total_o / n_o) / 3600
    # n * sum(x^2) - sum(x)^2 is exact in integers: no cancellation.
    variance = (n * squares - total**2) / (n * (n - 1) * n) / 3600**2
    variance_o = (n_o * squares_o - total_o**2) / (n_o * (n_o - 1) * n_o) / 3600**2
    half = Z_95 * math.sqrt(variance + variance_o)
    return (diff, diff - half, diff + half)


_SUMS = ("resolved_cases", "resolution_seconds_sum", "resolution_seconds_squares")


def _value_row(group: dict, gap: dict, hours: tuple, targets: dict) -> tuple:
    months, met = targets.get(group["department_id"], (0, 0))
    attainment = met / months if months else None
    promise = _promise(group)
    verdict, sentence = _verdict(group, gap, promise, (met, months))
    return (
        group["department_id"],
        group["department_name"],
        group["department_function"],
        group["customer_touch_share"],
        group["cases"],
        gap["units"],
        gap["ids"],
        _nps(group),
        group["answers"],
        gap["gap"],
        gap["low"],
        gap["high"],
        _kept(group),
        group["cases_held"],
        group["promises_held"],
        group["promises_broken_while_held"],
        promise["kept"],
        promise["low"],
        promise["high"],
        group["hours_beyond_promise"],
        group["chasing_contacts"],
        *hours,
        months,
        attainment,
        verdict,
        sentence,
    )


def _points(value: float) -> str:
    """'1 point', '12 points': the size of a gap in words."""
    size = round(abs(value))
    return f"{size} point" if size == 1 else f"{size} points"


def _signed(value: float) -> str:
    """A whole number with its sign, and no '-0'."""
    return "0" if round(value) == 0 else f"{value:+.0f}"


def _verdict(group: dict, gap: dict, promise: dict, targets: tuple[int, int]) -> tuple[str, str]:
    """The verdict and its sentence: docs/methodology.md, department_value, in this order."""
    name, function = group["department_name"], group["department_function"]
    if group["customer_touch_share"] == 0:
        return "no_customer_link", (
            f"No customer case touched {name} in the last {VALUE_WINDOW_MONTHS} months."
        )
    met, months = targets
    meets = months > 0 and met / months >= TARGETS_MET_SHARE
    measured = gap["gap"] is not None
    worse = _worse(gap)
    # Set only against units that are themselves out of the ordinary: no claim either way.
    beside_outliers = gap["reason"] == "outliers"
    better = _better(gap) and not beside_outliers
    similar = (
        measured
        and not beside_outliers
        and gap["low"] > -MATERIAL_NPS_GAP
        and gap["high"] < MATERIAL_NPS_GAP
    )
    promised = _promise_text(name, group)
    subject = "its customers" if promised else f"customers of {name}"
    compared = _gap_text(subject, function, gap)
    if worse or promise["fails"]:
        verdict = "watermelon" if meets else "destroys_value"
        if months:
            joint = "while it met" if meets else "and it met only"
            count = f"{met} of its" if met else "none of its"
            compared += f", {joint if met else 'and it met'} {count} {months} own monthly targets"
    elif better:
        verdict = "adds_value"
    elif similar:
        verdict = "neutral"
        compared += f", within {MATERIAL_NPS_GAP:g} points either way"
    else:
        verdict = "insufficient_data"
        compared = f"Can't tell yet for {name}: {_gap_text('its customers', function, gap)}"
        if beside_outliers:
            them = "that unit is" if gap["units"] == 1 else "those units are"
            compared += f", but {them} far from ordinary work, so this says nothing of its own"
        return verdict, ". ".join(p for p in (compared, promised) if p) + "."
    parts = [p for p in (promised, compared) if p]
    return verdict, ". ".join(p[0].upper() + p[1:] for p in parts) + "."


def _promise_text(name: str, group: dict) -> str | None:
    held, broken = group["promises_held"], group["promises_broken_while_held"]
    if not held:
        return None
    text = (
        f"{name} broke {broken / held:.0%} of the call-backs promised while it held the case"
        f" ({broken:,} of {held:,})"
    )
    if broken:
        text += (
            f", customers waited {group['hours_beyond_promise'] / broken:.0f} hours past the"
            f" promise on average and chased {group['chasing_contacts']:,} times"
        )
    return text


def _gap_text(subject: str, function: str, gap: dict) -> str:
    one, many = _UNITS[function]
    if gap["gap"] is None:
        return f"the NPS of {subject} cannot be compared: {gap['why']}"
    reference = f"the other {one}'s" if gap["units"] == 1 else f"the other {many}'"
    direction = "below" if gap["gap"] < 0 else "above"
    size = f"{_points(gap['gap'])} {direction}" if round(gap["gap"]) else "level with"
    return (
        f"on comparable cases the NPS of {subject} is {size} {reference}"
        f" (95% interval {_signed(gap['low'])} to {_signed(gap['high'])})"
    )


# --- ex_cx_linkage -------------------------------------------------------------------------


_EMPOWERMENT = ["empowerment_index", "engagement_index", "teamwork_index", "enps"]


def ex_cx_linkage(series: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Empowerment per department and wave against the customer outcomes of the following
    months: its own contacts', or a back-office unit's held cases' (int_linkage_outcome_month)."""
    empowerment = ["empowerment_index", "engagement_index", "teamwork_index", "enps"]
    waves = series.filter(pl.col("metric").is_in(empowerment) & (pl.col("n") > 0)).pivot(
        "metric", index=["department_id", "name", "month"], values=["value", "n"]
    )
    basis = dict(outcomes.select("department_id", "outcome_basis").unique().iter_rows())
    rows = []
    for wave in waves.sort("department_id", "month").iter_rows(named=True):
        later = outcomes.filter(
            (pl.col("department_id") == wave["department_id"])
            & (pl.col("month") >= _add_months(wave["month"], LINKAGE_LAG_MONTHS[0]))
            & (pl.col("month") <= _add_months(wave["month"], LINKAGE_LAG_MONTHS[1]))
        )
        rows.append(
            {
                "department_id": wave["department_id"],
                "department_name": wave["name"],
                "wave": wave["month"],
                "responses": wave.get("n_empowerment_index") or wave.get("n_engagement_index"),
                "empowerment_index": wave.get("value_empowerment_index"),
                "engagement_index": wave.get("value_engagement_index"),
                "teamwork_index": wave.get("value_teamwork_index"),
                "enps": wave.get("value_enps"),
                "outcome_basis": basis.get(wave["department_id"], "touchpoint"),
                "nps_following": later["nps"].drop_nulls().mean(),
                "nps_following_n": later.filter(pl.col("nps").is_not_null())["nps_answers"].sum(),
                "fcr_rate_following": later["fcr_rate"].drop_nulls().mean(),
                "months_after": later.height,
                "answers_most": later["nps_answers"].max(),
            }
        )
    table = pl.DataFrame(rows, schema=_LINKAGE_SCHEMA | _FOLLOWING_SCHEMA)
    small = pl.col("responses").fill_null(0) < MIN_N_ENGAGEMENT_GROUP
    table = table.with_columns(
        pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("empowerment_index", "engagement_index", "teamwork_index", "enps")
    )
    measured = outcomes.group_by("department_id").agg(
        pl.col("nps_answers").sum().alias("answers"), pl.col("cases_held").sum().alias("cases")
    )
    evidence = {r[0]: (r[1], r[2]) for r in measured.iter_rows()}
    return _with_association(table, evidence).drop(list(_FOLLOWING_SCHEMA))


_LINKAGE_SCHEMA = {
    "department_id": pl.String,
    "department_name": pl.String,
    "wave": pl.Date,
    "responses": pl.Int64,
    "empowerment_index": pl.Float64,
    "engagement_index": pl.Float64,
    "teamwork_index": pl.Float64,
    "enps": pl.Float64,
    "outcome_basis": pl.String,
    "nps_following": pl.Float64,
    "nps_following_n": pl.Int64,
    "fcr_rate_following": pl.Float64,
}
#: Per wave, for saying why a department is not assessed: months of outcomes after the wave
#: in the data, and the most NPS answers any of them had.
_FOLLOWING_SCHEMA = {"months_after": pl.Int64, "answers_most": pl.Int64}


def _with_association(table: pl.DataFrame, evidence: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """Per department: association of empowerment with the following months' NPS.

    Pearson over the waves, Benjamini-Hochberg across the departments tested, and support
    only where empowerment itself moved materially: two series that merely share a trend
    must not read as a link. evidence: per department, its NPS answers and cases held in all.
    """
    tests = {}
    for (department,), frame in table.group_by(["department_id"], maintain_order=True):
        pairs = frame.sort("wave").select("empowerment_index", "nps_following").drop_nulls()
        if pairs.height >= MIN_WAVES and pairs["empowerment_index"].n_unique() > 1:
            result = stats.pearsonr(pairs["empowerment_index"], pairs["nps_following"])
            values = pairs["empowerment_index"].to_numpy()
            ends = min(LINKAGE_END_WAVES, len(values) // 2)
            moved = abs(values[-ends:].mean() - values[:ends].mean())
            tests[department] = (float(result.statistic), float(result.pvalue), pairs.height, moved)
    names = list(tests)
    q = stats.false_discovery_control([tests[d][1] for d in names], method="bh") if names else []
    q_by = dict(zip(names, map(float, q), strict=True))
    parts = []
    for (department,), frame in table.group_by(["department_id"], maintain_order=True):
        held = frame["outcome_basis"][0] == "held_cases"
        if department in tests:
            rho, p_value, waves, moved = tests[department]
            q_value = q_by[department]
            supported = q_value < FDR and rho > 0 and moved >= MATERIAL_EMPOWERMENT_CHANGE
            sentence = _linkage_sentence(rho, q_value, waves, moved, supported, held)
        else:
            rho = p_value = q_value = None
            moved, supported = 0.0, False
            waves = frame.select("empowerment_index", "nps_following").drop_nulls().height
            sentence = _not_assessed(frame, evidence.get(department, (0, 0)))
        parts.append(
            frame.with_columns(
                pl.lit(rho, dtype=pl.Float64).alias("association"),
                pl.lit(p_value, dtype=pl.Float64).alias("p_value"),
                pl.lit(q_value, dtype=pl.Float64).alias("q_value"),
                pl.lit(waves, dtype=pl.Int64).alias("n_waves"),
                pl.lit(moved, dtype=pl.Float64).alias("empowerment_change"),
                pl.lit(supported).alias("supported"),
                pl.lit(sentence).alias("explanation"),
            )
        )
    if parts:
        return pl.concat(parts)
    return table.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in _ASSOCIATION_SCHEMA.items()
    )


_ASSOCIATION_SCHEMA = {
    "association": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "n_waves": pl.Int64,
    "empowerment_change": pl.Float64,
    "supported": pl.Boolean,
    "explanation": pl.String,
}


def _lag() -> str:
    return f"{LINKAGE_LAG_MONTHS[0]}-{LINKAGE_LAG_MONTHS[1]} months"


def _linkage_sentence(rho, q_value, waves, moved, supported, held=False) -> str:
    """The one sentence on an assessed department; a back office's outcome is its held cases'."""
    outcome = "the NPS of the cases it held" if held else "the NPS"
    summary = f"Pearson {rho:+.2f} over {waves} waves, q = {q_value:.3f}"
    if supported:
        return (
            f"Empowerment fell or rose and {outcome} in the following {_lag()} moved with it "
            f"({summary}; empowerment moved {moved:.0%})."
        )
    if moved < MATERIAL_EMPOWERMENT_CHANGE:
        against = f" with {outcome}" if held else ""
        return (
            f"No link claimed: empowerment did not move materially ({moved:.0%}; Pearson"
            f" {rho:+.2f}{against} over {waves} waves, q = {q_value:.3f})."
        )
    return f"No clear link between empowerment and {outcome} in the following {_lag()} ({summary})."


def _not_assessed(frame: pl.DataFrame, evidence: tuple[int, int]) -> str:
    """Why a department's waves could not be set against its customers, with the deciding numbers.

    The checks run from the employee side to the customer side; the first that fails is the
    reason. evidence: the department's NPS answers and cases held over all months.
    """
    held = frame["outcome_basis"][0] == "held_cases"
    answers, cases = evidence
    total = frame.height
    enough = frame.filter(pl.col("responses").fill_null(0) >= MIN_N_ENGAGEMENT_GROUP)
    shown = enough.filter(pl.col("empowerment_index").is_not_null())
    # A wave of 5 or more with no figure at all is withheld beside a smaller group's
    # (complementary suppression, docs/security.md).
    withheld = enough.filter(pl.all_horizontal(pl.col(_EMPOWERMENT).is_null())).height
    protected = (
        f" and were shown ({withheld} more {'is' if withheld == 1 else 'are'} withheld so that"
        " the organisation's total gives away no smaller group)"
        if withheld
        else ""
    )
    had = (
        f"{shown.height} waves had {MIN_N_ENGAGEMENT_GROUP} or more employee answers{protected},"
        " but"
    )
    if total < MIN_WAVES:
        waves = "1 survey wave" if total == 1 else f"{total} survey waves"
        return f"Not assessed: {waves} so far, and a link needs {MIN_WAVES}."
    if enough.height < MIN_WAVES:
        return (
            f"Not assessed: {enough.height} of {total} waves had {MIN_N_ENGAGEMENT_GROUP} or more"
            f" employee answers, and a link needs {MIN_WAVES}."
        )
    if shown.height < MIN_WAVES and withheld:
        return (
            f"Not assessed: {enough.height} waves had {MIN_N_ENGAGEMENT_GROUP} or more employee"
            f" answers, but {withheld} of them are withheld so that the organisation's total"
            f" gives away no smaller group, leaving {shown.height}, and a link needs {MIN_WAVES}."
        )
    if shown.height < MIN_WAVES:
        return (
            f"Not assessed: {enough.height} waves had {MIN_N_ENGAGEMENT_GROUP} or more employee"
            f" answers, but only {shown.height} asked the empowerment questions, and a link needs"
            f" {MIN_WAVES}."
        )
    if not held and answers == 0:
        return f"Not assessed: {had} customers rate no contact this unit handles directly."
    if held and cases == 0:
        return f"Not assessed: {had} the unit held no customer cases to measure them against."
    if held and answers == 0:
        return f"Not assessed: {had} customers answered no survey on the {cases:,} cases it held."
    paired = shown.filter(pl.col("nps_following").is_not_null())
    if paired.height < MIN_WAVES:
        short = shown.filter(pl.col("nps_following").is_null() & (pl.col("months_after") > 0))
        if short.is_empty():
            return (
                f"Not assessed: {had} {shown.height - paired.height} of them came too recently"
                f" to be followed by customer answers, leaving {paired.height}, and a link needs"
                f" {MIN_WAVES}."
            )
        most = short["answers_most"].max() or 0
        about = " on the cases it held" if held else ""
        return (
            f"Not assessed: {had} only {paired.height} were followed within {_lag()} by a month"
            f" of {MIN_N_SURVEY} or more NPS answers{about} (the others had at most {most} a"
            f" month), and a link needs {MIN_WAVES}."
        )
    level = paired["empowerment_index"][0]
    return (
        f"Not assessed: empowerment was {level:.0%} in each of the {paired.height} waves, so"
        " nothing could move with it."
    )


def _add_months(month: date, k: int) -> date:
    index = month.year * 12 + month.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)


# --- initiative_effects --------------------------------------------------------------------


def initiative_effects(
    initiatives: pl.DataFrame, series: pl.DataFrame, conflicts: pl.DataFrame
) -> pl.DataFrame:
    """Per initiative: its metric before, 1 month after and 3-6 months after, each lift set
    against the same months of the departments without it, and whether the lift lasted."""
    flagged = conflicts.filter(pl.col("flagged") & (pl.col("scope") == "department"))
    rows = [_effect(i, series, initiatives, flagged) for i in initiatives.iter_rows(named=True)]
    return pl.DataFrame(rows, schema=_EFFECT_SCHEMA, orient="row")


_EFFECT_SCHEMA = {
    "initiative_id": pl.String,
    "initiative_name": pl.String,
    "department_id": pl.String,
    "metric": pl.String,
    "started_on": pl.Date,
    "baseline": pl.Float64,
    "level_1_month": pl.Float64,
    "level_3_6_months": pl.Float64,
    "lift_1_month": pl.Float64,
    "lift_1_month_ci_low": pl.Float64,
    "lift_1_month_ci_high": pl.Float64,
    "lift_3_6_months": pl.Float64,
    "lift_3_6_months_ci_low": pl.Float64,
    "lift_3_6_months_ci_high": pl.Float64,
    "comparison_departments": pl.Int64,
    "comparison_ids": pl.List(pl.String),
    "verdict": pl.String,
    "durable": pl.Boolean,
    "conflict_outcome": pl.String,
    "explanation": pl.String,
}

#: Units whose comparison departments are scaled to the department's level (a 10% faster
#: Sales says 10% for Billing); the others are compared in points.
_RELATIVE_UNITS = frozenset({"seconds", "contacts/hour", "currency", "hours"})


def _monthly(series: pl.DataFrame, department: str, metric: str) -> dict[date, float]:
    values = series.filter(
        (pl.col("department_id") == department) & (pl.col("metric") == metric)
    ).drop_nulls("value")
    return dict(zip(values["month"], values["value"], strict=True))


def _effect(
    initiative: dict, series: pl.DataFrame, initiatives: pl.DataFrame, flagged: pl.DataFrame
) -> tuple:
    metric, start = initiative["metric"], initiative["started_on"].replace(day=1)
    department = initiative["department_id"]
    months = {
        "before": [_add_months(start, k) for k in range(-BASELINE_MONTHS, -BASELINE_SKIP)],
        "early": [_add_months(start, EARLY_MONTH)],
        "late": [_add_months(start, k) for k in range(LATE_MONTHS[0], LATE_MONTHS[1] + 1)],
    }
    own = _monthly(series, department, metric)
    head = (
        initiative["initiative_id"],
        initiative["initiative_name"],
        department,
        metric,
        initiative["started_on"],
    )
    label = f"{initiative['initiative_name']} ({_label(metric)})"
    seen = {stage: [m for m in ms if m in own] for stage, ms in months.items()}
    if len(seen["before"]) < MIN_BASELINE_MONTHS or not seen["early"] or len(seen["late"]) < 2:
        return (
            *head,
            *([None] * 9),
            None,
            None,
            "too_early",
            None,
            None,
            f"{label}: not enough months of {_label(metric)} before and after the start to"
            f" judge (needs {MIN_BASELINE_MONTHS} of months {BASELINE_MONTHS} to"
            f" {BASELINE_SKIP + 1} before the start, 1 after and {LATE_MONTHS[0]}-"
            f"{LATE_MONTHS[1]} after).",
        )
    used = [m for stage in seen.values() for m in stage]
    baseline = float(np.mean([own[m] for m in seen["before"]]))
    others = _comparison(series, initiatives, initiative, used, seen["before"], baseline)
    # Each month's figure less what the departments without the initiative did that month:
    # shocks, trends and seasons they share cancel; the department's own noise remains.
    gap = {m: own[m] - (others.shift[m] if others else 0.0) for m in used}
    before = [gap[m] for m in seen["before"]]
    noise = float(np.std(before, ddof=1))
    sign = 1 if METRICS[metric].better == "higher" else -1
    lift_early, ci_early = _lift(before, [gap[m] for m in seen["early"]], noise)
    lift_late, ci_late = _lift(before, [gap[m] for m in seen["late"]], noise)
    # A lift counts when it is clear (its interval on the intended side of zero) and material,
    # by the same measure as a KPI conflict's moves.
    material = material_change(metric, baseline)
    late_clear = _clear(ci_late, sign) and abs(lift_late) >= material
    early_clear = _clear(ci_early, sign) and abs(lift_early) >= material
    durable = bool(late_clear and sign * lift_late >= DURABLE_SHARE * sign * lift_early)
    verdict = "durable" if durable else "faded" if early_clear else "no_clear_lift"
    conflict = _conflict_of(flagged, department, metric, start)
    sentence = _effect_sentence(label, metric, verdict, lift_early, lift_late, others, conflict)
    return (
        *head,
        baseline,
        float(np.mean([own[m] for m in seen["early"]])),
        float(np.mean([own[m] for m in seen["late"]])),
        lift_early,
        *ci_early,
        lift_late,
        *ci_late,
        len(others.departments) if others else 0,
        others.departments if others else [],
        verdict,
        durable,
        conflict,
        sentence,
    )


class _Comparison(NamedTuple):
    """What the departments without the initiative did: month -> their mean move from their
    baseline, scaled to this department's; and who they are."""

    shift: dict[date, float]
    departments: list[str]


def _comparison(
    series: pl.DataFrame,
    initiatives: pl.DataFrame,
    initiative: dict,
    used: list[date],
    before: list[date],
    baseline: float,
) -> _Comparison | None:
    """The departments without an initiative on the metric near this one's start and with
    the metric in every month used: each one's months against its own baseline, averaged."""
    metric, start = initiative["metric"], initiative["started_on"].replace(day=1)
    near = initiatives.filter(
        (pl.col("metric") == metric)
        & pl.col("started_on").is_between(
            _add_months(start, -BASELINE_MONTHS), _add_months(start, LATE_MONTHS[1] + 1)
        )
    )["department_id"].to_list()
    candidates = (
        series.filter(
            (pl.col("metric") == metric)
            & ~pl.col("department_id").is_in([*near, initiative["department_id"], "ALL"])
        )["department_id"]
        .unique()
        .sort()
    )
    relative = METRICS[metric].unit in _RELATIVE_UNITS
    scaled, kept = [], []
    for other in candidates:
        values = _monthly(series, other, metric)
        if not all(m in values for m in used):
            continue
        level = float(np.mean([values[m] for m in before]))
        if relative and level == 0:
            continue
        kept.append(str(other))
        scaled.append(
            {
                m: values[m] / level * baseline if relative else values[m] - level + baseline
                for m in used
            }  # fmt: skip
        )
    if len(scaled) < MIN_COMPARISONS:
        return None
    shift = {m: float(np.mean([s[m] for s in scaled])) - baseline for m in used}
    return _Comparison(shift, kept)


def _conflict_of(flagged: pl.DataFrame, department: str, metric: str, start: date) -> str | None:
    """The outcome of the strongest flagged conflict this initiative's metric is part of."""
    rows = flagged.filter(
        (pl.col("department_id") == department)
        & (pl.col("productivity_metric") == metric)
        & (pl.col("first_month") <= start)
        & (pl.col("last_month") >= start)
    ).sort("association")
    return rows["outcome_metric"][0] if rows.height else None


def _effect_sentence(
    label: str,
    metric: str,
    verdict: str,
    lift_early: float,
    lift_late: float,
    others: _Comparison | None,
    conflict: str | None,
) -> str:
    against = (
        f" against {len(others.departments)} departments without it"
        if others
        else " against its own months before (no department without it to compare with)"
    )
    if verdict == "durable":
        sentence = f"{label}: the lift held, {_fmt(metric, lift_late)} after 3-6 months{against}"
    elif verdict == "faded":
        sentence = (
            f"{label}: a quick fix that faded, {_fmt(metric, lift_early)} after 1 month but"
            f" {_fmt(metric, lift_late)} after 3-6 months{against}"
        )
    else:
        sentence = (
            f"{label}: no clear lift, {_fmt(metric, lift_early)} after 1 month and"
            f" {_fmt(metric, lift_late)} after 3-6 months{against}, within what chance gives"
        )
    if conflict is not None and verdict != "no_clear_lift":
        joint = ", but customers lost out" if verdict == "durable" else "; customers lost out too"
        sentence += (
            f"{joint}: {_label(conflict)} worsened in the same months (see the KPI conflict)"
        )
    return sentence + "."


def _clear(interval: tuple[float, float], sign: int) -> bool:
    """True when the whole interval lies on the intended side of zero."""
    return interval[0] > 0 if sign > 0 else interval[1] < 0


def _lift(before: list[float], after: list[float], noise: float) -> tuple:
    """Lift over the baseline with a 95% interval from month-to-month noise before the start."""
    lift = float(np.mean(after) - np.mean(before))
    se = noise * math.sqrt(1 / len(before) + 1 / len(after))
    t = stats.t.ppf(0.975, df=max(len(before) - 1, 1))
    return lift, (lift - t * se, lift + t * se)


def _fmt(metric: str, lift: float) -> str:
    unit = METRICS[metric].unit
    if unit == "share":
        return f"{lift * 100:+.1f} points"
    if unit == "points":
        return f"{lift:+.1f} NPS points"
    return f"{lift:+.3g} {unit}"
