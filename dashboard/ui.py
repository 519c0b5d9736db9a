"""Display helpers shared by the pages: number formats, tiles, help texts, friendly errors."""

from __future__ import annotations

import math
from datetime import date

import streamlit as st

from dashboard.data import DataUnavailable
from etl.catalog import description
from etl.metrics import METRICS
from etl.models import discover

#: Verdicts of department_value in words and the colour each is drawn in.
VERDICTS = {
    "destroys_value": ("destroys value", "#c0392b"),
    "watermelon": ("watermelon", "#e67e22"),
    "neutral": ("neutral", "#7f8c8d"),
    "adds_value": ("adds value", "#27ae60"),
    "insufficient_data": ("too little data", "#bdc3c7"),
    "no_customer_link": ("no customer link", "#95a5a6"),
}


@st.cache_resource(show_spinner=False)
def _models() -> dict:
    return discover()


def help_for(view: str, column: str) -> str:
    """A column's description from the YAML behind docs/data-dictionary.md."""
    models = _models()
    return description(models[view], column, models) or ""


def documented(view: str, columns) -> dict:
    """Column settings for a table of a view: readable headers, each column's YAML description."""
    return {
        c: st.column_config.Column(c.replace("_", " "), help=help_for(view, c)) for c in columns
    }


def metric_help(metric: str) -> str:
    """A metric's definition, direction and minimum sample, for help text."""
    m = METRICS[metric]
    return (
        f"{help_for('department_month', metric)} {m.better.capitalize()} is better. "
        f"n counts {m.n_counts}; below {m.min_n} the figure is withheld."
    )


#: unit -> (format of a value, format of a change, factor of a change): shares change in points.
FORMATS = {
    "share": ("{:.1%}", "{:+.1f} pts", 100),
    "points": ("{:+.1f}", "{:+.1f} pts", 1),
    "seconds": ("{:,.0f} s", "{:+,.0f} s", 1),
    "hours": ("{:,.1f} h", "{:+,.1f} h", 1),
}
PLAIN = ("{:,.2f}", "{:+,.2f}", 1)


def _missing(number: float | None) -> bool:
    return number is None or (isinstance(number, float) and math.isnan(number))


def value(metric: str, number: float | None) -> str:
    """A metric's value in its unit, for people."""
    if _missing(number):
        return "–"
    return FORMATS.get(METRICS[metric].unit, PLAIN)[0].format(number)


def change(metric: str, number: float | None) -> str | None:
    """A change of a metric in its unit (shares in percentage points)."""
    if _missing(number):
        return None
    _, shown, factor = FORMATS.get(METRICS[metric].unit, PLAIN)
    return shown.format(factor * number)


def pair_label(productivity: str, outcome: str) -> str:
    """handle time vs NPS."""
    return f"{METRICS[productivity].label} vs {METRICS[outcome].label}"


def month_label(month: date | None) -> str:
    """Oct 2026."""
    return month.strftime("%b %Y") if month else "–"


def tile(row: dict) -> None:
    """A headline metric: value, change on the period before, year on year, n and interval."""
    metric = row["metric"]
    shown = row["value"] is not None
    label = row["label"][0].upper() + row["label"][1:]
    st.metric(
        label,
        value(metric, row["value"]) if shown else _withheld(row["note"]),
        delta=change(metric, row["change_vs_previous"]) if shown else None,
        delta_color="normal" if row["better"] == "higher" else "inverse",
        help=metric_help(metric),
        border=True,
    )
    st.caption(tile_caption(row))


def _withheld(note: str) -> str:
    if note.startswith("too little data"):
        return "too little data"
    if note.startswith("not available"):
        return "not available"
    return "no data"


def tile_caption(row: dict) -> str:
    """n, interval, period and comparisons of a tile, in one line."""
    metric = row["metric"]
    parts = [f"n = {row['n']:,}"]
    if row["value"] is None:
        parts.append(row["note"])
    if row["ci_low"] is not None:
        parts.append(f"95% CI {row['ci_low']:+.1f} to {row['ci_high']:+.1f}")
    if row["period"] is not None and row["period"] != row["month"]:
        parts.append(f"wave of {month_label(row['period'])}")
    if row["previous_value"] is not None and row["value"] is not None:
        parts.append(f"vs {month_label(row['previous_period'])}")
    if row["change_vs_year_ago"] is not None:
        parts.append(f"year on year {change(metric, row['change_vs_year_ago'])}")
    elif row["value"] is not None:
        parts.append("no figure a year before")
    if row["is_all_channels"]:
        parts.append("all channels (no channel in its source)")
    return " · ".join(parts)


def unavailable(problem: DataUnavailable) -> None:
    """A friendly stop: what is wrong and the command that fixes it."""
    st.warning(f"**{problem.problem}**\n\n{problem.fix}", icon=":material/database:")
