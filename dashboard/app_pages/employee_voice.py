"""Employee voice: empowerment, engagement and teamwork next to the outcomes that follow."""

import polars as pl
import streamlit as st

from dashboard import data, filters, ui
from etl.contract.metrics import MIN_N_ENGAGEMENT_GROUP
from etl.reporting import charts

f = filters.current()
st.title(f"Employee voice: {ui.plain(f.department_name)}")
st.markdown(
    "Indices are the share of favourable answers (4 or 5 of 5). **Empowerment**: I can do the"
    " right thing for the customer, I have the time, I have the tools. Each wave is set"
    " against the NPS and first-contact resolution of the 1-3 months after it; customers do not"
    " rate a back-office unit, so its waves are set against the NPS of the cases it held. Groups"
    f" of fewer than {MIN_N_ENGAGEMENT_GROUP} responses are suppressed to protect anonymity, and"
    " the next smallest are withheld beside them, so that the organisation's total less the"
    " groups shown never gives a suppressed group away."
)
st.caption("Survey waves within the period; answers have no channel.")

waves = data.linkage(f.start, f.end)
if waves.is_empty():
    st.info("No employee survey waves loaded for this period.")
    st.stop()

st.subheader("Empowerment by department and wave")
st.altair_chart(
    charts.wave_heatmap(waves.filter(pl.col("department_id") != "ALL"), "empowerment_index")
)

mine = waves.filter(pl.col("department_id") == f.department)
st.subheader(f"{ui.plain(ui.sentence_case(f.department_name))}: wave by wave")
if mine.is_empty():
    st.info(f"No survey waves for {ui.plain(f.department_name)}.")
    st.stop()
st.info(ui.plain(mine["explanation"][-1]))
held = mine["outcome_basis"][-1] == "held_cases"
table = mine.select(
    "wave",
    "responses",
    "empowerment_index",
    "engagement_index",
    "teamwork_index",
    "enps",
    "nps_following",
    "nps_following_n",
    *([] if held else ["fcr_rate_following"]),
)
suppressed = table["responses"] < MIN_N_ENGAGEMENT_GROUP


def _hidden(column: str) -> pl.Expr:
    """Why a wave's figure is not shown: too few answers, or withheld beside a smaller group."""
    return pl.when(suppressed).then(pl.lit("suppressed")).when(pl.col(column).is_null())


shown = table.with_columns(
    _hidden(c)
    .then(pl.lit("withheld"))
    .otherwise(pl.col(c).mul(100).round(0).cast(pl.Int64).cast(pl.String) + "%")
    .alias(c)
    for c in ("empowerment_index", "engagement_index", "teamwork_index")
).with_columns(
    _hidden("enps")
    .then(pl.lit("withheld"))
    .otherwise(pl.col("enps").map_elements(ui.signed, pl.String))
    .alias("enps"),
    pl.when(pl.col("nps_following_n") == 0)
    .then(pl.lit("not yet"))
    .otherwise(pl.col("nps_following").map_elements(ui.signed, pl.String))
    .alias("nps_following"),
    pl.col("wave").map_elements(ui.month_label, pl.String),
    *([] if held else [pl.col("fcr_rate_following").map_elements(lambda v: f"{v:.0%}", pl.String)]),
)
nps_title = "Held-case NPS after" if held else "NPS after"
labels = {
    "wave": "Wave",
    "responses": "Responses",
    "empowerment_index": "Empowerment",
    "engagement_index": "Engagement",
    "teamwork_index": "Teamwork",
    "enps": "eNPS",
    "nps_following": nps_title,
    "nps_following_n": "NPS answers",
    "fcr_rate_following": "First-contact resolution after",
}
ui.table(
    shown.rename({c: labels[c] for c in shown.columns}),
    helps={labels[c]: ui.help_for("ex_cx_linkage", c) for c in shown.columns},
)
