"""How figures look to people, on the pages and in the board pack alike: units and verdicts."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from etl import settings
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
    "tasks": ("{:,.0f}", "{:+,.0f}", 1),
}
PLAIN = ("{:,.2f}", "{:+,.2f}", 1)
#: Currency codes written as a symbol before the figure; any other code follows it (9.37 CHF).
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def missing(number: float | None) -> bool:
    """No figure: None or NaN."""
    return number is None or (isinstance(number, float) and math.isnan(number))


def whole_points(number: float) -> str:
    """+5, -70 and 0 (never -0): a gap in whole points with its sign."""
    whole = round(number)
    return f"{whole:+d}" if whole else "0"


def format_value(metric: str, number: float | None) -> str:
    """A metric's value in its unit, for people; money in the currency of CXKPI_CURRENCY."""
    if missing(number):
        return "–"
    if METRICS[metric].unit == "currency":
        return money(number)
    return FORMATS.get(METRICS[metric].unit, PLAIN)[0].format(number)


def format_change(metric: str, number: float | None) -> str | None:
    """A change of a metric in its unit (shares in percentage points)."""
    if missing(number):
        return None
    if METRICS[metric].unit == "currency":
        return money(number, signed=True)
    _, shown, factor = FORMATS.get(METRICS[metric].unit, PLAIN)
    return shown.format(factor * number)


def money(number: float, signed: bool = False, places: int = 2) -> str:
    """An amount in the configured currency: €9.37, -€0.06, 9.37 CHF, +0.06 CHF (€12,346 with
    places 0)."""
    code = settings.CURRENCY.get()
    sign = ("+" if number >= 0 else "-") if signed else ("-" if number < 0 else "")
    figure = f"{abs(number):,.{places}f}"
    symbol = SYMBOLS.get(code)
    return f"{sign}{symbol}{figure}" if symbol else f"{sign}{figure} {code}"


def format_moment(moment: datetime) -> str:
    """A moment recorded in UTC, in the business time zone (CXKPI_TIMEZONE) with the zone's
    name: '2026-11-30 14:02 UTC', '2026-11-30 15:02 CET'."""
    zone = settings.TIMEZONE.get()
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or zone}"


def parse_month(text: str) -> date:
    """'2026-10' -> date(2026, 10, 1); ValueError naming the expected form otherwise."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError:
        raise ValueError(f"{text!r}: expected a month as YYYY-MM, e.g. 2026-10") from None
