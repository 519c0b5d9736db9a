"""What the analyses share: a metric's label, its material change, and month arithmetic."""

from __future__ import annotations

from datetime import date

from etl.analyses.thresholds import (
    MATERIAL_HOURS_FLOOR,
    MATERIAL_OUTCOME_CHANGE,
    MATERIAL_RELATIVE_CHANGE,
)
from etl.contract.metrics import METRICS


def metric_label(metric: str) -> str:
    """The metric as a sentence names it."""
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


def add_months(month: date, k: int) -> date:
    """The first of the month k months after (or before, k < 0) this one."""
    index = month.year * 12 + month.month - 1 + k
    return date(index // 12, index % 12 + 1, 1)
