"""Initiatives: did the lift last, or was it a quick fix that faded?"""

import streamlit as st

from dashboard import data, filters, ui
from etl.analyses.thresholds import DURABLE_SHARE
from etl.reporting import charts

f = filters.current()
st.title("Initiatives: lasting or fading")
st.markdown(
    "Each initiative's target metric is compared with its level in the months before the start,"
    " less what the **departments without it** did in the same months (their trends, seasons"
    " and shocks are not the initiative's): the **lift after 1 month** and the **lift after 3-6"
    " months**, each with a 95% interval. A lift counts when it is clear of zero and material."
    f" **Durable**: the 3-6 month lift counts and keeps at least {DURABLE_SHARE:.0%} of the"
    " 1-month lift. **Faded**: the 1-month lift counted, the later one did not."
    " **No clear lift**: within what chance gives."
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

_STATUS = {
    "durable": ("durable", st.success),
    "faded": ("faded", st.error),
    "no_clear_lift": ("no clear lift", st.info),
}
for row in effects.iter_rows(named=True):
    word, show = _STATUS.get(row["verdict"], ("too early to judge", st.info))
    if row["conflict_outcome"] is not None and row["verdict"] != "no_clear_lift":
        word, show = f"{word}, but customers lost out", st.error
    show(
        f"**{ui.plain(row['initiative_name'])}** ({ui.plain(row['department_id'])},"
        f" {ui.plain(row['metric_label'])}, from {ui.month_label(row['started_on'])}):"
        f" **{word}**. {ui.plain(row['explanation'])}"
    )

lifts = data.initiative_lifts(f.department)
st.subheader("Lift after 1 month and after 3-6 months")
st.caption(
    "Points: lift against the baseline, in the metric's unit (shares as fractions);"
    " bars: 95% interval; dashed: no change."
)
st.altair_chart(charts.lifts(lifts))

st.dataframe(
    effects.select(
        "initiative_name",
        "department_id",
        "metric_label",
        "started_on",
        "baseline",
        "lift_1_month",
        "lift_3_6_months",
        "comparison_departments",
        "verdict",
    ),
    hide_index=True,
    column_config=ui.documented(
        "initiative_effects",
        ("baseline", "lift_1_month", "lift_3_6_months", "comparison_departments", "verdict"),
    )
    | {
        "initiative_name": "initiative",
        "department_id": "department",
        "metric_label": "metric",
        "started_on": st.column_config.DateColumn("started", format="MMM YYYY"),
    },
)
