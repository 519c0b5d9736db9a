"""SQL workbench: the analyst's own questions over the documented views, read-only."""

from datetime import datetime

import polars as pl
import streamlit as st

from dashboard import data, ui
from etl.reporting import charts

QUERY = "sql_query"
RESULT = "sql_result"
RUN_NOW = "sql_run_now"
RUNS = "sql_runs"
RAW_CSV = "sql_raw_csv"
MAX_CATEGORIES = 12


def use(query: str, run: bool) -> None:
    """Put a query in the editor (an example, or a view from the browser) and maybe run it."""
    st.session_state[QUERY] = query
    st.session_state[RUN_NOW] = run


def execute(query: str) -> None:
    # A new result gets fresh chart settings (the old columns may not exist any more).
    st.session_state[RUNS] = st.session_state.get(RUNS, 0) + 1
    box = data.workbench()
    try:
        st.session_state[RESULT] = (query, box.run(query))
    except data.Refused as refusal:
        st.session_state[RESULT] = (query, refusal)


def show_result(query: str, outcome) -> None:
    if isinstance(outcome, data.Refused):
        st.error(f"Not run: {ui.plain(outcome)}", icon=":material/block:")
        return
    box = data.workbench()
    frame = outcome.frame
    status = (
        f"**{frame.height:,} row{'s' if frame.height != 1 else ''}** in {outcome.seconds:.2f} s"
    )
    if outcome.truncated:
        status += (
            f"; the query returned more, the first {frame.height:,} are shown. Downloads hold up"
            f" to {box.limits.download_rows:,} rows."
        )
    st.markdown(status)
    dates = {
        c: st.column_config.DateColumn(c, format="YYYY-MM-DD")
        for c, kind in frame.schema.items()
        if kind == pl.Date
    }
    st.dataframe(
        frame, hide_index=True, height=min(38 + 35 * frame.height, 420), column_config=dates
    )
    stamp = datetime.now().strftime("%Y%m%d-%H%M")
    buttons = st.container(horizontal=True)
    raw = st.session_state.get(RAW_CSV, False)
    for fmt, mime in (("csv", "text/csv"), ("parquet", "application/vnd.apache.parquet")):
        buttons.download_button(
            f"Download {'CSV' if fmt == 'csv' else 'Parquet'}",
            # Run again at click time, uncapped for display; the callable needs no session.
            data=lambda fmt=fmt: box.download(query, fmt, raw=raw)[0],
            file_name=f"cxkpi-query-{stamp}.{fmt}",
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            key=f"download_{fmt}",
        )
    buttons.checkbox(
        "Raw CSV",
        key=RAW_CSV,
        help="Cells exactly as stored. Unticked, a cell a spreadsheet would run as a formula"
        " (starting with = + - @) gets a leading apostrophe and shows as text.",
    )
    chart(frame)


def chart(frame: pl.DataFrame) -> None:
    """A chart of the result when it has a time or category column and a number."""
    temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
    categories = [
        c for c, t in frame.schema.items() if t in (pl.String, pl.Categorical, pl.Boolean)
    ]
    numbers = [c for c, t in frame.schema.items() if t.is_numeric()]
    axes = temporal + categories
    if frame.is_empty() or not axes or not numbers:
        st.caption("No chart: it needs a date or category column and a numeric column.")
        return
    st.subheader("Chart")
    pick_x, pick_y, pick_colour = st.columns([1, 2, 1])
    run = st.session_state.get(RUNS, 0)
    x = pick_x.selectbox("Along", axes, key=f"sql_chart_x_{run}")
    ys = pick_y.multiselect("Values", numbers, default=numbers[:1], key=f"sql_chart_y_{run}")
    colours = [c for c in categories if c != x and frame[c].n_unique() <= MAX_CATEGORIES]
    # Over time, one line per category reads best; bars stay one colour unless asked.
    choices = [*colours, None] if x in temporal else [None, *colours]
    colour = pick_colour.selectbox(
        "Split by", choices, format_func=lambda c: c or "nothing", key=f"sql_chart_colour_{run}"
    )
    if not ys:
        st.caption("Pick at least one value to chart.")
        return
    if x not in temporal and frame[x].n_unique() > 60:
        st.caption(
            f"{frame[x].n_unique()} categories in {ui.plain(x)}: too many to chart;"
            " aggregate first."
        )
        return
    st.altair_chart(charts.result_chart(frame, x, ys, colour), width="stretch")


st.title("SQL workbench")
st.markdown(
    "Ask your own questions of the documented views. Queries are **read-only** and reach only"
    " the views listed on the right: no files, raw tables or individual survey answers."
    " Employee answers are only ever seen in groups of 5 or more."
)
box = data.workbench()
limits = box.limits
st.caption(
    f"One SELECT at a time; stops after {limits.timeout_seconds:g} s or {limits.memory_limit} of"
    f" memory; shows up to {limits.max_rows:,} rows. The same guard as `cxkpi sql` in a terminal."
)

editor, browser = st.columns([3, 2], gap="large")
with browser:
    st.subheader("Examples")
    for example in data.examples():
        st.button(
            example.title,
            help=example.description,
            on_click=use,
            args=(example.sql, True),
            key=f"example_{example.name}",
            width="stretch",
        )
    st.subheader("Views")
    views = {v.name: v for v in data.analyst_views() if v.name in box.views}
    name = st.selectbox("View", list(views), key="sql_view")
    if name is None:
        st.info("The warehouse has no views yet: run `cxkpi build` (or `cxkpi demo`).")
    else:
        view = views[name]
        st.markdown(f"**Grain**: {view.grain}.")
        if view.description:
            st.caption(view.description)
        with st.container(height=280):
            st.markdown("\n".join(f"- `{column}` — {text}" for column, text in view.columns))
        st.button(
            f"Query {name}",
            on_click=use,
            args=(f"SELECT *\nFROM {name}\nLIMIT 100", False),
            icon=":material/edit:",
        )

with editor:
    with st.form("sql_editor", border=False):
        query = st.text_area(
            "Query",
            key=QUERY,
            height=240,
            max_chars=data.MAX_QUERY_CHARS,
            placeholder="SELECT month, nps, nps_n FROM organisation_month ORDER BY month",
            help="Ctrl+Enter runs the query.",
        )
        submitted = st.form_submit_button("Run", type="primary", icon=":material/play_arrow:")
    if submitted or st.session_state.pop(RUN_NOW, False):
        with st.spinner("Running…"):
            execute(st.session_state.get(QUERY, ""))
    if RESULT in st.session_state:
        show_result(*st.session_state[RESULT])
