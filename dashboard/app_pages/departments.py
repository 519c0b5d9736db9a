"""Departments: which add customer value, which destroy it, and the watermelons."""

import streamlit as st

from dashboard import data, filters, ui
from etl.analyses.thresholds import BROKEN_PROMISES_SHARE, MATERIAL_NPS_GAP, TARGETS_MET_SHARE
from etl.reporting import charts
from etl.reporting.formats import VERDICTS

f = filters.current()
st.title("Departments and customer value")
st.markdown(
    "Each department is measured on its cases of the last 12 months against comparable cases"
    " of the other units of its function taken together: a front-line unit on the cases it"
    " opened and kept, a back office on the cases it worked on after a hand-off, where each case"
    " came from, its channel and month held equal. **Destroys value**: it broke more than"
    f" {BROKEN_PROMISES_SHARE:.0%} of the call-backs promised while it held the case, or its"
    f" customers' NPS is {MATERIAL_NPS_GAP:g} points or more below the others' with the whole"
    " 95% interval below that. **Watermelon**: the same while meeting"
    f" {TARGETS_MET_SHARE:.0%} or more of its own targets: green inside, red for customers."
    f" **Neutral** only when the whole interval lies within {MATERIAL_NPS_GAP:g} points either"
    " way; a wider one reads **can't tell yet**."
)
st.caption("Over all channels and the last 12 months; the department filter highlights one.")

value = data.department_value()
if value.is_empty():
    st.info("No departments yet: load departments.csv and run `cxkpi build`.")
    st.stop()

if f.department != "ALL":
    chosen = value.filter(value["department_id"] == f.department)
    if not chosen.is_empty():
        row = chosen.row(0, named=True)
        label, _ = VERDICTS[row["verdict"]]
        st.info(f"**{ui.plain(row['department_name'])}: {label}.** {ui.plain(row['explanation'])}")

st.subheader("Scorecard")
scorecard = value.with_columns(
    value["verdict"].replace_strict({k: v[0] for k, v in VERDICTS.items()}).alias("verdict")
)
columns = [
    "department_name",
    "department_function",
    "verdict",
    "cases_touched",
    "nps_touched",
    "nps_touched_n",
    "nps_gap",
    "nps_gap_ci_low",
    "nps_gap_ci_high",
    "reference_units",
    "promises_held",
    "promises_broken_while_held",
    "promise_kept_held",
    "hours_beyond_promise",
    "chasing_contacts",
    "hours_added",
    "own_target_attainment",
    "explanation",
]
formats = {
    "nps_touched": "%+.1f",
    "nps_gap": "%+.1f",
    "nps_gap_ci_low": "%+.1f",
    "nps_gap_ci_high": "%+.1f",
    "promise_kept_held": "percent",
    "hours_beyond_promise": "localized",
    "chasing_contacts": "localized",
    "promises_held": "localized",
    "reference_units": "localized",
    "hours_added": "%+.1f",
    "own_target_attainment": "percent",
    "cases_touched": "localized",
    "nps_touched_n": "localized",
    "promises_broken_while_held": "localized",
}
config = {
    c: (
        st.column_config.NumberColumn(
            c.replace("_", " "), format=formats[c], help=ui.help_for("department_value", c)
        )
        if c in formats
        else st.column_config.Column(c.replace("_", " "), help=ui.help_for("department_value", c))
    )
    for c in columns
}
config["explanation"] = st.column_config.TextColumn("explanation", width="large")
st.dataframe(scorecard.select(columns), hide_index=True, column_config=config)

st.subheader("Own targets against customer outcome")
st.caption(
    "Right: meets its own targets. Down: its customers' cases end worse than the other units'"
    " (bars: 95% interval). Bottom right is the watermelon corner: green on its own targets,"
    " red for customers. Departments with too little data or no customer link are not drawn."
)
st.altair_chart(charts.quadrant(value, TARGETS_MET_SHARE))

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
        "**Promises broken while it held the case**",
        help=ui.help_for("department_value", "promises_broken_while_held"),
    )
    st.altair_chart(charts.counts(measured, "promises_broken_while_held", "promises broken"))
