"""KPI conflicts: which productivity KPIs improved while a customer outcome worsened."""

import altair as alt
import streamlit as st

from dashboard import data, filters, ui
from etl.analyses.thresholds import MIN_PERIODS
from etl.reporting import charts

f = filters.current()
st.title(f"KPI conflicts: {ui.plain(f.department_name)}")
st.markdown(
    "A **conflict** is a productivity KPI that got better while a customer outcome got worse"
    " over the same months: both moves material and clear (95% interval), their monthly"
    " association negative (Spearman, direction-aware) and significant after adjusting for the"
    f" number of pairs tested (Benjamini-Yekutieli q < 0.05), over at least {MIN_PERIODS} months"
    " with every calendar month twice. A season that repeats every year is taken out first:"
    " a busy December is not a conflict. Nor is a shift of contacts to a faster, less liked"
    " channel: both moves must hold at a fixed mix of channels."
    " Red cells: productivity improved in the months the outcome worsened; ⚑ marks a flag."
)
st.caption(
    "Computed over all channels and every month loaded; the period and channel filters"
    " do not change the analysis."
)

pairs = data.conflicts(f.department)
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
if chosen["flagged"]:
    whose = " One department's, through the totals." if chosen["shows_through"] else ""
    st.error(f"**Flagged.{whose}** {ui.plain(chosen['explanation'])}", icon=":material/flag:")
else:
    st.info(ui.plain(chosen["explanation"]))
if chosen["association"] is not None:
    st.caption(
        f"Association {chosen['association']:+.2f} (Spearman, direction-aware) over"
        f" {chosen['n_periods']} months, {ui.month_label(chosen['first_month'])} to"
        f" {ui.month_label(chosen['last_month'])}; p = {chosen['p_value']:.2g}"
        + (
            f", q = {chosen['q_value']:.2g}."
            if chosen["q_value"] is not None
            else " (not adjusted: both moves must pass before a pair is tested)."
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
    st.dataframe(
        flagged.select(
            "productivity_label",
            "outcome_label",
            "association",
            "q_value",
            "n_periods",
            "explanation",
        ),
        hide_index=True,
        column_config={
            "productivity_label": "productivity",
            "outcome_label": "outcome",
            "association": st.column_config.NumberColumn(
                format="%+.2f", help=ui.help_for("kpi_conflicts", "association")
            ),
            "q_value": st.column_config.NumberColumn(
                "q", format="%.1e", help=ui.help_for("kpi_conflicts", "q_value")
            ),
            "n_periods": st.column_config.NumberColumn(
                "months", help=ui.help_for("kpi_conflicts", "n_periods")
            ),
            "explanation": st.column_config.TextColumn(width="large"),
        },
    )
