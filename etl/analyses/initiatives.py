"""initiative_effects: what an initiative moved, against departments without it.

Method and measured error rates: docs/methodology.md#initiative-effects.
"""

from __future__ import annotations

import math
from datetime import date
from typing import NamedTuple

import numpy as np
import polars as pl
from scipy import stats

from etl.analyses.common import add_months, material_change, metric_label
from etl.analyses.thresholds import (
    BASELINE_MONTHS,
    BASELINE_SKIP,
    DURABLE_SHARE,
    EARLY_MONTH,
    LATE_MONTHS,
    MIN_BASELINE_MONTHS,
    MIN_COMPARISONS,
)
from etl.contract.metrics import METRICS


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
        "before": [add_months(start, k) for k in range(-BASELINE_MONTHS, -BASELINE_SKIP)],
        "early": [add_months(start, EARLY_MONTH)],
        "late": [add_months(start, k) for k in range(LATE_MONTHS[0], LATE_MONTHS[1] + 1)],
    }
    own = _monthly(series, department, metric)
    head = (
        initiative["initiative_id"],
        initiative["initiative_name"],
        department,
        metric,
        initiative["started_on"],
    )
    label = f"{initiative['initiative_name']} ({metric_label(metric)})"
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
            f"{label}: not enough months of {metric_label(metric)} before and after the start to"
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
            add_months(start, -BASELINE_MONTHS), add_months(start, LATE_MONTHS[1] + 1)
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
            f"{joint}: {metric_label(conflict)} worsened in the same months (see the KPI conflict)"
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
