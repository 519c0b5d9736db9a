"""How figures look to people, on the pages and in the board pack alike: units and verdicts."""

from __future__ import annotations

import math
from datetime import date, datetime

from etl.contract.metrics import METRICS

#: Verdicts of department_value in words and the colour each is drawn in.
VERDICTS = {
    "destroys_value": ("destroys value", "#c0392b"),
    "watermelon": ("watermelon", "#e67e22"),
    "neutral": ("neutral", "#5d7fa3"),
    "adds_value": ("adds value", "#27ae60"),
    "insufficient_data": ("can't tell yet", "#c8ccd0"),
    "no_customer_link": ("no customer link", "#8e6c8a"),
}

#: unit -> (format of a value, format of a change, factor of a change): shares change in points.
FORMATS = {
    "share": ("{:.1%}", "{:+.1f} pts", 100),
    "points": ("{:+.1f}", "{:+.1f} pts", 1),
    "seconds": ("{:,.0f} s", "{:+,.0f} s", 1),
    "hours": ("{:,.1f} h", "{:+,.1f} h", 1),
}
PLAIN = ("{:,.2f}", "{:+,.2f}", 1)


def missing(number: float | None) -> bool:
    """No figure: None or NaN."""
    return number is None or (isinstance(number, float) and math.isnan(number))


def format_value(metric: str, number: float | None) -> str:
    """A metric's value in its unit, for people."""
    if missing(number):
        return "–"
    return FORMATS.get(METRICS[metric].unit, PLAIN)[0].format(number)


def format_change(metric: str, number: float | None) -> str | None:
    """A change of a metric in its unit (shares in percentage points)."""
    if missing(number):
        return None
    _, shown, factor = FORMATS.get(METRICS[metric].unit, PLAIN)
    return shown.format(factor * number)


def parse_month(text: str) -> date:
    """'2026-10' -> date(2026, 10, 1); ValueError naming the expected form otherwise."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{text!r}: expected a month as YYYY-MM, e.g. 2026-10") from None
