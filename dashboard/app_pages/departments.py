"""Departments: which add customer value, which destroy it, and the watermelons."""

import polars as pl
import streamlit as st

from dashboard import data, filters, tie_ins, ui
from etl.analyses.thresholds import BROKEN_PROMISES_SHARE, MATERIAL_NPS_GAP, TARGETS_MET_SHARE
from etl.contract.metrics import METRICS
from etl.reporting import charts
from etl.reporting.formats import VERDICTS

#: Verdicts from the worst: the scorecard lists departments in this order.
SEVERITY = (
    "destroys_value",
    "watermelon",
    "insufficient_data",
    "neutral",
    "adds_value",
    "no_customer_link",
)
FLAGS = ("destroys_value", "watermelon")
#: Survey answers a department's cases need before its NPS is compared.
MIN_ANSWERS = METRICS["nps"].min_n

f = filters.current()
st.title("Departments and customer value")

value = data.department_value()
if value.is_empty():
    st.info("No departments yet: load departments.csv and run `cxkpi build`.")
    st.stop()
value = value.sort(
    pl.col("verdict").replace_strict({v: i for i, v in enumerate(SEVERITY)}, default=99),
    "department_name",
)


def verdict_label(verdict: str) -> str:
    return VERDICTS[verdict][0]


def headline(frame: pl.DataFrame) -> str:
    """One sentence: how many departments are flagged, and which."""
    flagged = frame.filter(pl.col("verdict").is_in(FLAGS))
    judged = frame.filter(pl.col("verdict") != "no_customer_link").height
    if flagged.is_empty():
        return (
            f"None of the {judged} departments that touch customers' cases is flagged in the"
            " last 12 months."
        )
    names = [
        f"{ui.plain(r['department_name'])} ({verdict_label(r['verdict'])})"
        for r in flagged.iter_rows(named=True)
    ]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    verb = "works" if len(names) == 1 else "work"
    return (
        f"**{len(names)} of the {judged} departments that touch customers' cases {verb} against"
        f" them:** {listed}."
    )


st.markdown(headline(value))
st.caption(
    "Each department is measured on its cases of the last 12 months, over all channels,"
    " against comparable cases of the other units of its function. The filter's department is"
    " highlighted; under each table, the reasons for the selected row."
)

if f.department != "ALL":
    chosen = value.filter(value["department_id"] == f.department)
    if not chosen.is_empty():
        row = chosen.row(0, named=True)
        st.info(
            f"**{ui.plain(row['department_name'])}: {verdict_label(row['verdict'])}.**"
            f" {ui.plain(row['explanation'])}"
        )
        tie_ins.drivers_anchor()


def nps_cell() -> pl.Expr:
    """The NPS gap with its interval, or why there is none."""
    gap = pl.col("nps_gap")
    return (
        pl.when(gap.is_not_null())
        .then(
            pl.format(
                "{} ({} to {})",
                *(
                    pl.col(c).map_elements(ui.signed, pl.String)
                    for c in ("nps_gap", "nps_gap_ci_low", "nps_gap_ci_high")
                ),
            )
        )
        .when(pl.col("cases_touched") == 0)
        .then(pl.lit("no customer cases"))
        .when(pl.col("nps_touched_n") < MIN_ANSWERS)
        .then(pl.lit("too few answers"))
        .otherwise(pl.lit("not available"))
    )


def hours_cell(column: str) -> pl.Expr:
    return (
        pl.when(pl.col(column).is_not_null())
        .then(pl.col(column).map_elements(lambda h: f"{h:+,.1f} h", pl.String))
        .otherwise(pl.lit("too little data"))
    )


def count_cell(column: str) -> pl.Expr:
    return pl.col(column).map_elements(ui.count, pl.String)


def targets_cell() -> pl.Expr:
    months = pl.col("own_target_months")
    met = (pl.col("own_target_attainment") * months).round(0).cast(pl.Int64)
    return (
        pl.when(months > 0)
        .then(pl.format("{} of {}", met, months))
        .otherwise(pl.lit("no targets set"))
    )


def promises_cell() -> pl.Expr:
    kept = pl.col("promise_kept_held")
    return (
        pl.when(kept.is_not_null())
        .then(
            pl.format(
                "{} of {}",
                kept.map_elements(lambda k: f"{k:.0%}", pl.String),
                count_cell("promises_held"),
            )
        )
        .otherwise(pl.lit("no promises held"))
    )


COMMON_HELP = {
    "Department": "",
    "Verdict": (
        f"Destroys value: broke more than {BROKEN_PROMISES_SHARE:.0%} of the call-backs promised"
        f" while it held the case, or its customers' NPS is {MATERIAL_NPS_GAP:g} points or more"
        " below the others' with the whole 95% interval below that. Watermelon: the same while"
        f" meeting {TARGETS_MET_SHARE:.0%} or more of its own targets. Neutral: the whole"
        f" interval lies within {MATERIAL_NPS_GAP:g} points either way; a wider one reads"
        " can't tell yet."
    ),
    "NPS vs peers": ui.help_for("department_value", "nps_gap") + " Points, with the 95% interval.",
    "Answers": "Survey answers on its cases in the last 12 months.",
    "Hours added": ui.help_for("department_value", "hours_added"),
    "Targets met": "Months of the last 12 in which it met its own targets.",
}


def scorecard(function: str, columns: dict[str, pl.Expr], key: str) -> None:
    """The table of one function's departments, and the explanation of the selected row."""
    rows = value.filter(pl.col("department_function") == function)
    if rows.is_empty():
        return
    shown = rows.select(
        pl.col("department_name").alias("Department"),
        pl.col("verdict").map_elements(verdict_label, pl.String).alias("Verdict"),
        **columns,
    )
    picked = ui.table(
        shown,
        helps=COMMON_HELP | HELPS,
        highlight=(rows["department_id"] == f.department).to_list(),
        on_select="rerun",
        selection_mode="single-row",
        key=key,
    )
    mine = rows["department_id"].to_list()
    index, chosen = ui.selected_row(picked, mine.index(f.department) if f.department in mine else 0)
    row = rows.row(index, named=True)
    ui.reasons(
        f"{ui.plain(row['department_name'])}: {verdict_label(row['verdict'])}",
        row["explanation"],
        more=not chosen and rows.height > 1,
    )
    if row["department_id"] != f.department:
        tie_ins.drivers_link(row["department_id"], key=f"{key}_drivers")
    if row["verdict"] in FLAGS:
        ui.words(data.theme_evidence(row["department_id"]), row["department_name"])


HELPS = {
    "Promises kept": "Call-backs promised while it held the case: the share kept, of how many.",
    "Chased": ui.help_for("department_value", "chasing_contacts"),
    "Cases": ui.help_for("department_value", "cases_touched"),
}
customer_side = {
    "NPS vs peers": nps_cell(),
    "Answers": count_cell("nps_touched_n"),
    "Hours added": hours_cell("hours_added"),
    "Targets met": targets_cell(),
}

st.subheader("Front-line units")
st.caption("Judged on the cases they opened and kept: their customers' NPS and resolution time.")
scorecard("frontline", customer_side | {"Cases": count_cell("cases_touched")}, "departments_fl")

st.subheader("Back offices")
st.caption(
    "Judged by their own evidence, on the cases handed to them: the call-backs promised while"
    " they held the case, the contacts customers made to chase it, the hours they added to its"
    " resolution, and those customers' NPS."
)
scorecard(
    "back_office",
    {
        "Promises kept": promises_cell(),
        "Chased": count_cell("chasing_contacts"),
    }
    | customer_side,
    "departments_bo",
)
unlinked = value.filter(pl.col("department_function") == "support")
if not unlinked.is_empty():
    st.caption(
        "Support units, no verdict. "
        + " ".join(ui.plain(r["explanation"]) for r in unlinked.iter_rows(named=True))
    )

st.subheader("Own targets against customer outcome")
st.caption(
    "Right: meets its own targets. Down: its customers' cases end worse than the other units'"
    " (bars: 95% interval). Bottom right is the watermelon corner: green on its own targets,"
    " red for customers. Flagged departments are named; hover over a point for the others."
    " Departments with too little data or no customer link are not drawn."
)
selected_name = "" if f.department == "ALL" else f.department_name
st.altair_chart(charts.quadrant(value, TARGETS_MET_SHARE, selected_name))

st.subheader("Contribution to customer journeys")
measured = value.filter(value["hours_added"].is_not_null())
left, right = st.columns(2)
with left:
    st.markdown(
        "**Hours added to case resolution** against the other units of its function (95% interval)",
        help=ui.help_for("department_value", "hours_added"),
    )
    st.altair_chart(charts.interval_bars(measured, "hours_added", "hours added per case"))
with right:
    st.markdown(
        "**Promises broken while it held the case** (units that held promises)",
        help=ui.help_for("department_value", "promises_broken_while_held"),
    )
    held = measured.filter(pl.col("promises_held") > 0)
    st.altair_chart(charts.counts(held, "promises_broken_while_held", "promises broken"))

st.subheader("What moves its customers' NPS", anchor="what-moves-nps")
scope = f.department
drivers = data.nps_drivers(scope)
where = "the organisation" if scope == "ALL" else f.department_name
if drivers.is_empty():
    st.info(f"No survey answers linked to a case for {where}.")
elif set(drivers["verdict"]) == {"too few answers"}:
    st.info(ui.plain(drivers["explanation"][0]))
else:
    top = drivers.filter(pl.col("costs_most"))
    if not top.is_empty():
        st.markdown(ui.plain(top["headline"][0]))
    first = drivers.row(0, named=True)
    st.caption(
        f"What happened on each answering customer's case, weighed together: n ="
        f" {first['answers']:,} answers linked to a case"
        f" ({first['unlinked_answers']:,} could not be linked). Red: lower NPS, green: higher,"
        " grey: no clear effect (the data cannot tell). An association adjusted for the"
        " drivers listed, not proof of cause. Pick a department in the sidebar for its own."
    )
    left, right = st.columns(2)
    with left:
        st.markdown(
            "**NPS points each driver goes with** (95% interval)",
            help=ui.help_for("nps_drivers", "nps_gap"),
        )
        st.altair_chart(charts.driver_bars(drivers))
    with right:
        st.markdown(
            "**Where NPS is lost** (how often x how much)",
            help=ui.help_for("nps_drivers", "nps_lost"),
        )
        st.altair_chart(charts.driver_losses(drivers))
    unweighed = drivers.filter(pl.col("nps_gap").is_null())
    if not unweighed.is_empty():
        st.caption("Not weighed: " + " ".join(ui.plain(e) + "." for e in unweighed["explanation"]))
