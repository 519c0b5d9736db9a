"""Initiatives with planted truth on random organisations, to measure initiative_effects.

Each organisation's monthly series come from etl/sample/conflict_series.py (departments with
productivity drives, seasons, improvements, trends in one metric and noise, shocks shared
across departments). Two to four initiatives are then planted, each on a random department
and metric, starting at a random month with at least 6 months before and 7 after. On top of
the departments' own stories, each metric may move in every department at once (a trend or a
season the whole organisation shares), which a before/after comparison mistakes for a lift.
Each initiative is:

- ``null``: no effect at all, started at a random month;
- ``null_after_dip``: no effect, started right after the department's worst 3 months on the
  metric, as an initiative launched because the figures looked bad: the regression-to-the-mean
  trap;
- ``durable``: the metric moves 2 to 4 times its material change the intended way from the
  start month, for good;
- ``faded``: the same move, gone again after 2 months.

An initiative whose department's own planted story already moves the metric (a drive, an
improvement, a trend) is marked ``trending``: nothing set against other departments can tell
its lift from the trend, and the rates are given apart. benchmarks/initiative_effects.py runs
hundreds of organisations; docs/methodology.md holds the measured rates.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from etl.analyses.common import material_change
from etl.analyses.initiatives import initiative_effects
from etl.contract.metrics import METRICS
from etl.sample.conflict_series import OUTCOMES, PRODUCTIVITY
from etl.sample.conflict_series import organisation as conflicts_organisation

KINDS = ("null", "null_after_dip", "durable", "faded")
#: Months a faded initiative's move lasts.
FADED_MONTHS = 2
_NO_CONFLICTS = pl.DataFrame(
    schema={
        "scope": pl.String,
        "department_id": pl.String,
        "productivity_metric": pl.String,
        "outcome_metric": pl.String,
        "first_month": pl.Date,
        "last_month": pl.Date,
        "association": pl.Float64,
        "flagged": pl.Boolean,
    }
)


def _sign(metric: str) -> int:
    return 1 if METRICS[metric].better == "higher" else -1


def organisation(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """An organisation's metric_month-shaped series with its initiatives' moves added, the
    initiatives (stg_initiatives-shaped) and their truth."""
    series, stories, _ = conflicts_organisation(seed)
    rng = np.random.default_rng(10_000 + seed)
    series = _shared_moves(rng, series.filter(pl.col("department_id") != "ALL"))
    months = series["month"].unique().sort().to_list()
    departments = stories["department_id"].to_list()
    initiatives, truth = [], []
    taken: set[tuple[str, str]] = set()
    for k in range(int(rng.integers(2, 5))):
        department = str(rng.choice(departments))
        metric = str(rng.choice(PRODUCTIVITY + OUTCOMES))
        if (department, metric) in taken:
            continue
        taken.add((department, metric))
        kind = str(rng.choice(KINDS))
        values = (
            series.filter((pl.col("department_id") == department) & (pl.col("metric") == metric))
            .sort("month")["value"]
            .to_numpy()
        )
        start = _start(rng, kind, values, metric)
        if kind in ("durable", "faded"):
            move = (
                _sign(metric)
                * float(rng.uniform(2, 4))
                * material_change(metric, float(values.mean()))
            )
            last = months[-1] if kind == "durable" else months[start + FADED_MONTHS - 1]
            series = series.with_columns(
                pl.when(
                    (pl.col("department_id") == department)
                    & (pl.col("metric") == metric)
                    & pl.col("month").is_between(months[start], last)
                )
                .then(pl.col("value") + move)
                .otherwise(pl.col("value"))
                .alias("value")
            )
        story = stories.filter(pl.col("department_id") == department).row(0, named=True)
        trending = story["kind"] in ("conflict", "better_both", "one_metric") and metric in (
            story["productivity_metric"],
            story["outcome_metric"],
        )
        initiatives.append((f"I{k}", f"Initiative {k}", department, months[start], metric))
        truth.append((f"I{k}", kind, trending))
    frame = pl.DataFrame(
        initiatives,
        orient="row",
        schema={
            "initiative_id": pl.String,
            "initiative_name": pl.String,
            "department_id": pl.String,
            "started_on": pl.Date,
            "metric": pl.String,
        },
    )
    planted = pl.DataFrame(
        truth, orient="row", schema=["initiative_id", "kind", "trending"]
    ).with_columns(pl.lit(seed).alias("organisation"))
    return series, frame, planted


def _shared_moves(rng: np.random.Generator, series: pl.DataFrame) -> pl.DataFrame:
    """What moves every department at once: for each metric, nothing, a trend (1 to 3 material
    changes over two years, either way) or a season (2 or 3 calendar months 1 to 2 material
    changes off, either way), each department's move measured at its own level."""
    months = series["month"].unique().sort()
    calendar = months.dt.month().to_numpy()
    moves = []
    for metric in series["metric"].unique().sort():
        kind = rng.choice(["none", "trend", "season"], p=[0.4, 0.3, 0.3])
        direction = float(rng.choice([-1.0, 1.0]))
        if kind == "trend":
            pattern = direction * rng.uniform(1, 3) * np.arange(len(months)) / 24
        elif kind == "season":
            begin = int(rng.integers(1, 13))
            busy = [(begin + k - 1) % 12 + 1 for k in range(int(rng.integers(2, 4)))]
            pattern = direction * rng.uniform(1, 2) * np.isin(calendar, busy)
        else:
            pattern = np.zeros(len(months))
        moves.append(pl.DataFrame({"metric": metric, "month": months, "pattern": pattern}))
    levels = series.group_by("department_id", "metric").agg(pl.col("value").mean())
    scale = levels.with_columns(
        pl.struct("metric", "value")
        .map_elements(lambda r: material_change(r["metric"], r["value"]), pl.Float64)
        .alias("scale")
    ).drop("value")
    return (
        series.join(pl.concat(moves), on=["metric", "month"], how="left")
        .join(scale, on=["department_id", "metric"], how="left")
        .with_columns(pl.col("value") + pl.col("pattern").fill_null(0) * pl.col("scale"))
        .drop("pattern", "scale")
    )


def _start(rng: np.random.Generator, kind: str, values: np.ndarray, metric: str) -> int:
    """The start month's index: random, or right after the worst 3 months for a dip."""
    allowed = np.arange(6, len(values) - 7)
    if kind != "null_after_dip":
        return int(rng.choice(allowed))
    # The mean of the 3 months before each allowed start, the worst way round.
    before = np.array([values[s - 3 : s].mean() for s in allowed]) * _sign(metric)
    return int(allowed[int(np.argmin(before))])


def judge(seed: int) -> pl.DataFrame:
    """Every planted initiative with what initiative_effects made of it."""
    series, initiatives, truth = organisation(seed)
    effects = initiative_effects(initiatives, series, _NO_CONFLICTS)
    return truth.join(
        effects.select("initiative_id", "verdict", "durable", "comparison_departments"),
        on="initiative_id",
    )


def rates(results: pl.DataFrame) -> pl.DataFrame:
    """Per kind and trending: how many, and the share given each verdict."""
    return (
        results.group_by("kind", "trending")
        .agg(
            pl.len().alias("initiatives"),
            (pl.col("verdict") == "durable").mean().alias("durable"),
            (pl.col("verdict") == "faded").mean().alias("faded"),
            (pl.col("verdict") == "no_clear_lift").mean().alias("no_clear_lift"),
            (pl.col("verdict") == "too_early").mean().alias("too_early"),
        )
        .sort("trending", "kind")
    )
