"""Initiatives: did the lift last, or was it a quick fix that faded?"""

import polars as pl
import streamlit as st

from dashboard import data, filters, ui
from etl.analyses.thresholds import (
    BASELINE_MONTHS,
    DURABLE_SHARE,
    LATE_MONTHS,
    MIN_BASELINE_MONTHS,
    MIN_COMPARISONS,
)
from etl.contract.metrics import METRICS
from etl.reporting import charts
from etl.reporting.formats import format_change, format_value

#: What a missing figure reads as in a table cell.
NONE = "—"

f = filters.current()
st.title("Initiatives: lasting or fading")
st.markdown(
    "Did each initiative move the figure it aimed at, and did the gain last? Each figure is"
    " compared with the months before the start, less what the **departments without it** did"
    " in the same months, so a busy season or a shock they all shared is not counted as the"
    " initiative's. **Durable**: still clearly better 3-6 months on, keeping at least"
    f" {DURABLE_SHARE:.0%} of the first month's gain. **Faded**: clearly better after 1 month,"
    " not 3-6 months on. **No clear lift**: no bigger than the figure's usual ups and downs."
)
st.caption("Over all channels; the department filter narrows the list.")

effects = data.initiatives(f.department)
if effects.is_empty():
    st.info(
        "No initiatives"
        + ("" if f.department == "ALL" else f" in {ui.plain(f.department_name)}")
        + ". Load an initiatives file (initiative_id, name, department_id, started_on, metric)."
    )
    st.stop()


def _n(number: int | None) -> str:
    return f"n = {number:,}" if number else "n = 0"


def _value(row: dict, column: str) -> str:
    return format_value(row["metric"], row[column]) if row["metric"] in METRICS else NONE


def _lift(row: dict, column: str) -> str:
    if row["metric"] not in METRICS:
        return NONE
    return format_change(row["metric"], row[column]) or NONE


def _department(row: dict) -> str:
    return row["department_name"] or row["department_id"]


def _figures(row: dict) -> str:
    """The levels behind the verdict, each with what it rests on."""
    if row["verdict"] == "too_early" or row["baseline"] is None:
        return (
            f"Too little data to judge: {row['baseline_months']} of the {BASELINE_MONTHS} months"
            f" before the start have a figure ({MIN_BASELINE_MONTHS} needed) and"
            f" {row['level_3_6_months_months']} of months 3-6 after (2 needed)."
        )
    against = row["comparison_departments"] or 0
    return (
        f"Before: {_level(row, 'baseline', 'baseline_n', row['baseline_months'])};"
        f" after 1 month: {_level(row, 'level_1_month', 'level_1_month_n')};"
        " after 3-6 months:"
        f" {_level(row, 'level_3_6_months', 'level_3_6_months_n', row['level_3_6_months_months'])}"
        + ("" if against >= MIN_COMPARISONS else "; no department without it to compare with")
        + "."
    )


def _level(row: dict, column: str, n: str, months: int | None = None) -> str:
    over = f"{months} months, " if months is not None else ""
    return f"{_value(row, column)} ({over}{_n(row[n])})"


def _trend(row: dict) -> str:
    """Why a lift and a steady trend on the KPI conflicts page may be the same move."""
    if not row["trend_explains"] or row["metric"] not in METRICS:
        return ""
    way = "falling" if row["trend_before"] < 0 else "rising"
    per_month = (format_change(row["metric"], abs(row["trend_before"])) or "").lstrip("+")
    text = (
        f" Mind the trend: {ui.plain(row['metric_label'])} was already {way} before the start,"
        f" about {per_month} a month; continued, that alone gives at least half of this lift."
    )
    if row["conflict_outcome"] is not None:
        text += " The KPI conflicts page, which follows every month, sees this same steady move."
    return text


_STATUS = {
    "durable": ("durable", st.success),
    "faded": ("faded", st.error),
    "no_clear_lift": ("no clear lift", st.info),
}
for row in effects.iter_rows(named=True):
    word, show = _STATUS.get(row["verdict"], ("too early to judge", st.info))
    if row["conflict_outcome"] is not None and row["verdict"] != "no_clear_lift":
        word, show = f"{word}, but customers lost out", st.error
    reason = row["reason"] or row["explanation"]
    show(
        f"**{ui.plain(row['initiative_name'])}** · {ui.plain(_department(row))} ·"
        f" {ui.plain(row['metric_label'] or row['metric'])}, from"
        f" {ui.month_label(row['started_on'])}: **{word}**. {ui.plain(reason)}"
        f"{_trend(row)}  \n{ui.plain(_figures(row))}"
    )

lifts = data.initiative_lifts(f.department)
st.subheader("Lift after 1 month and after 3-6 months")
st.caption(
    "Points: the lift against the months before, in each figure's unit (shares in percentage"
    " points); bars: the range the lift lies in, 95 times in 100; dashed line: no change."
)
shown = lifts.filter(pl.col("shown_lift").is_not_null())
if shown.is_empty():
    st.info("No lift to draw yet: too little data before and after the starts (see above).")
else:
    st.altair_chart(charts.lifts(shown))

_VERDICTS = {"durable": "durable", "faded": "faded", "no_clear_lift": "no clear lift"}
table = pl.DataFrame(
    [
        {
            "initiative": row["initiative_name"],
            "department": _department(row),
            "metric": row["metric_label"] or row["metric"],
            "started": ui.month_label(row["started_on"]),
            "lift after 1 month": _lift(row, "lift_1_month"),
            "lift after 3-6 months": _lift(row, "lift_3_6_months"),
            "verdict": _VERDICTS.get(row["verdict"], "too early to judge"),
        }
        for row in effects.iter_rows(named=True)
    ]
)
ui.table(table.rename(ui.sentence_case))

with st.expander("How we know"):
    names = dict(
        zip(
            data.filter_values()["department"]["value"],
            data.filter_values()["department"]["label"],
            strict=True,
        )
    )
    st.markdown(
        "**Method.** A difference in differences: each month's figure less the mean move of"
        " the comparison departments (those with the figure in every month used and no"
        f" initiative of their own on it from {BASELINE_MONTHS} months before to"
        f" {LATE_MONTHS[1] + 1} after the start), each scaled to this department's level"
        " (relative for seconds, contacts per hour, cost and hours; in points otherwise)."
        f" The baseline is the mean of that difference over the {BASELINE_MONTHS} months before"
        f" the start month (at least {MIN_BASELINE_MONTHS} with a figure); the lifts are its"
        f" move to month 1 and to the mean of months {LATE_MONTHS[0]}-{LATE_MONTHS[1]}."
        " The 95% interval is a t interval from the month-to-month noise of the difference"
        " before the start (degrees of freedom: baseline months less one). A lift counts when"
        " its interval lies on the better side of zero and it is material, by the same measure"
        " as a KPI conflict's moves (docs/methodology.md#initiative-effects)."
    )
    stats = []
    for row in effects.iter_rows(named=True):
        against = ", ".join(names.get(d, d) for d in (row["comparison_ids"] or [])) or NONE
        stats.append(
            {
                "initiative": row["initiative_name"],
                "lift after 1 month": _lift(row, "lift_1_month"),
                "95% interval, 1 month": (
                    f"{_lift(row, 'lift_1_month_ci_low')} to {_lift(row, 'lift_1_month_ci_high')}"
                    if row["lift_1_month_ci_low"] is not None
                    else NONE
                ),
                "lift after 3-6 months": _lift(row, "lift_3_6_months"),
                "95% interval, 3-6 months": (
                    f"{_lift(row, 'lift_3_6_months_ci_low')} to"
                    f" {_lift(row, 'lift_3_6_months_ci_high')}"
                    if row["lift_3_6_months_ci_low"] is not None
                    else NONE
                ),
                "trend before, a month": (
                    format_change(row["metric"], row["trend_before"]) or NONE
                    if row["metric"] in METRICS
                    else NONE
                ),
                "comparison departments": against,
            }
        )
    ui.table(pl.DataFrame(stats).rename(ui.sentence_case))
