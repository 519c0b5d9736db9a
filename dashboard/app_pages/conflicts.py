"""KPI conflicts: which productivity KPIs improved while a customer outcome worsened."""

import altair as alt
import polars as pl
import streamlit as st

from dashboard import data, filters, tie_ins, ui
from etl.analyses.thresholds import MIN_PERIODS
from etl.reporting import charts

f = filters.current()
st.title(f"KPI conflicts: {ui.plain(f.department_name)}")
st.markdown(
    "A **conflict** is a productivity KPI that got better while a customer outcome got worse"
    " over the same months: both by a material amount, and month after month too consistently"
    " to be chance, even allowing for every pair tested. A season that repeats every year is"
    " taken out first (a busy December is not a conflict), and so is a shift of contacts to a"
    " faster, less liked channel. Red cells: productivity improved in the months the outcome"
    " worsened; ⚑ marks a flag."
)
with st.expander("How we know", icon=":material/functions:"):
    st.markdown(
        "Each pair is tested only when both moves are material and clear: the average of the"
        " last 6 months differs from the first 6 by the material change, with a 95% interval"
        " (Welch) that excludes zero. The months of the two series are then correlated"
        " (Spearman, with each metric's better direction up, so a conflict is negative), after"
        " the calendar-month effects are fitted out when either series is seasonal. The"
        " one-sided p-values are adjusted for every pair tested (Benjamini-Yekutieli, q < 0.05)."
        f" At least {MIN_PERIODS} months are needed, with every calendar month twice. Both moves"
        " must also hold within each channel at a fixed mix of channels. The error rates,"
        " measured on simulated organisations, are in the methodology (docs/methodology.md)."
    )
st.caption(
    "Computed over all channels and every month loaded; the period and channel filters"
    " do not change the analysis."
)

pairs = data.conflicts(f.department)
whose_words = "the organisation" if f.department == "ALL" else f.department_name
if pairs.is_empty():
    st.info(
        f"No pairs were tested for {ui.plain(f.department_name)}: it has too few months with both a"
        " productivity and an outcome figure."
    )
    st.stop()

ranked = pairs.sort("flagged", "association", descending=[True, False], nulls_last=True)
options = [
    f"{p}:{o}" for p, o in ranked.select("productivity_metric", "outcome_metric").iter_rows()
]


def _pick_cell() -> None:
    chosen = st.session_state["conflicts_matrix"]["selection"]["cell"]
    if chosen:
        st.session_state["pair"] = (
            f"{chosen[0]['productivity_metric']}:{chosen[0]['outcome_metric']}"
        )


cell = alt.selection_point(name="cell", fields=["productivity_metric", "outcome_metric"])
st.altair_chart(
    charts.conflict_matrix(pairs, cell),
    on_select=_pick_cell,
    key="conflicts_matrix",
)
pair = st.selectbox(
    "Pair (or click a cell)",
    options=options,
    format_func=lambda pair: ui.pair_label(*pair.split(":")),
    key="pair",
    bind="query-params",
)
chosen = pairs.filter((pairs["productivity_metric"] + ":" + pairs["outcome_metric"]) == pair).row(
    0, named=True
)
pair_flagged = chosen["flagged"]
if pair_flagged:
    whose = " One department's, through the totals." if chosen["shows_through"] else ""
    st.error(f"**Flagged.{whose}** {ui.plain(chosen['explanation'])}", icon=":material/flag:")
    tie_ins.drivers_link(f.department, key="conflicts_drivers")
    ui.words(data.theme_evidence(f.department), whose_words)
else:
    st.info(ui.plain(chosen["explanation"]))
if chosen["association"] is not None:
    st.caption(
        f"{chosen['n_periods']} months, {ui.month_label(chosen['first_month'])} to"
        f" {ui.month_label(chosen['last_month'])}. How closely the months move against each"
        f" other: {chosen['association']:+.2f}, on a scale from -1 (always against each other)"
        " to +1 (always together)."
    )
    with st.expander("How we know: the statistics of this pair"):
        st.markdown(
            f"Spearman correlation, each metric's better direction up: {chosen['association']:+.2f}"
            f" over {chosen['n_periods']} months; one-sided p = {chosen['p_value']:.2g}"
            + (
                f", q = {chosen['q_value']:.2g} after the Benjamini-Yekutieli adjustment."
                if chosen["q_value"] is not None
                else " (not adjusted: both moves must be material and clear before a pair is"
                " tested)."
            )
        )
else:
    st.caption(
        f"{chosen['n_periods']} months with both figures: too few to test ({MIN_PERIODS} needed)."
    )
st.altair_chart(
    charts.small_multiples(
        data.series(f.department, [chosen["productivity_metric"], chosen["outcome_metric"]])
    )
)

flagged = pairs.filter("flagged")
if not flagged.is_empty():
    st.subheader(f"All {flagged.height} flagged pairs")
    shown = flagged.select(
        pl.col("productivity_label").alias("Productivity KPI"),
        pl.col("outcome_label").alias("Customer outcome"),
        pl.col("association").map_elements(lambda a: f"{a:+.2f}", pl.String).alias("Strength"),
        pl.col("n_periods").alias("Months"),
    )
    picked = ui.table(
        shown,
        helps={
            "Strength": "How closely the months move against each other, from -1 (always"
            " against) to +1 (always together).",
            "Months": ui.help_for("kpi_conflicts", "n_periods"),
        },
        on_select="rerun",
        selection_mode="single-row",
        key="conflicts_flagged",
    )
    index, chosen = ui.selected_row(picked)
    row = flagged.row(index, named=True)
    ui.reasons(
        ui.pair_label(row["productivity_metric"], row["outcome_metric"]),
        row["explanation"],
        more=not chosen and flagged.height > 1,
    )
    if not pair_flagged:
        ui.words(data.theme_evidence(f.department), whose_words)
