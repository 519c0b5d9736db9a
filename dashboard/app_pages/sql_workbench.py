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
#: The link's query parameter holding the last query run (the filters keep theirs).
LINK = "q"
#: The schema browser's groups (data.VIEW_GROUPS): what each is called and holds.
GROUP_LABELS = {"output": "Output", "supporting": "Supporting", "internal": "Internal"}
GROUP_HELP = {
    "output": "documented output views: their names and columns stay stable from release to"
    " release. Start here.",
    "supporting": "views the dashboard's pages read: labels added, long forms, counts and the"
    " department names.",
    "internal": "building blocks of the views above (staging stg_, intermediate int_) and the"
    " board snapshots' frozen copies (snapshot_). Their columns may change between releases.",
}
ONE_AXIS, TWO_AXES, INDEX = "One axis", "Two axes", "Index (first = 100)"


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
    keep_in_link(query)


def keep_in_link(query: str) -> None:
    """The query run last, in the page's link (?q=), so a reload or a shared link shows it
    again; a query too long for a link leaves none, and says so under the editor."""
    if query.strip() and len(query) <= data.URL_QUERY_CHARS:
        st.query_params[LINK] = query
    elif LINK in st.query_params:
        del st.query_params[LINK]


def from_link() -> None:
    """On opening the page with ?q=: that query, in the editor and run, under the same limits
    and refusals as a typed one."""
    linked = st.query_params.get(LINK)
    if QUERY in st.session_state or not linked:
        return
    if len(linked) > data.MAX_QUERY_CHARS:
        execute(linked)  # refused for its length; too long for the editor to hold
        return
    use(linked, run=True)


def show_refusal(outcome: data.Refused) -> None:
    """A plain sentence first, then exactly what the guard or DuckDB said."""
    said = data.explain(outcome, data.workbench().views)
    st.error(ui.plain(said.sentence), icon=":material/block:")
    if said.detail:
        where = "DuckDB" if outcome.detail else "the guard"
        with st.expander(f"Exactly what {where} said"):
            st.code(said.detail, language=None, wrap_lines=True)


def show_result(query: str, outcome) -> None:
    if isinstance(outcome, data.Refused):
        show_refusal(outcome)
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
    scale = pick_scale(frame, x in temporal, ys, run)
    if scale == TWO_AXES:
        drawn = charts.two_axes_chart(frame, x, ys, colour)
    elif scale == INDEX:
        left_out = charts.unindexed(frame, x, ys, colour)
        if left_out:
            st.caption(
                f"No index for {ui.plain(', '.join(left_out))} (or some of its series): the"
                " first value is missing or not above 0, and an index of a value that can be"
                " negative, such as NPS, would run the wrong way. Two axes shows it."
            )
        if len(left_out) == len(ys):
            return
        drawn = charts.index_chart(frame, x, ys, colour)
    else:
        drawn = charts.result_chart(frame, x, ys, colour)
    st.altair_chart(drawn, width="stretch")


def pick_scale(frame: pl.DataFrame, over_time: bool, ys: list[str], run: int) -> str:
    """How several values share the chart: one axis, an axis each (two values) or, over time,
    an index; measures far apart in size start on their own axes or as an index."""
    if len(ys) < 2:
        return ONE_AXIS
    options = [ONE_AXIS, *([TWO_AXES] if len(ys) == 2 else []), *([INDEX] if over_time else [])]
    apart = charts.scales_apart(frame, ys)
    default = ONE_AXIS
    if apart:
        default = TWO_AXES if TWO_AXES in options else options[-1]
    scale = st.segmented_control(
        "Scale",
        options,
        default=default,
        required=True,
        key=f"sql_chart_scale_{run}",
        help="Values of very different size (an NPS and a handle time in seconds) on one axis"
        " leave the smaller as a flat line: give each its own axis, or show each as an index"
        " of its first value.",
    )
    if apart and scale == ONE_AXIS:
        st.caption(
            f"These values differ in size {charts.SCALE_RATIO} times or more: on one axis the"
            " smaller reads as a flat line."
        )
    return scale


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

from_link()
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
    groups = {
        g: [n for n, v in views.items() if v.group == g]
        for g in data.VIEW_GROUPS
        if any(v.group == g for v in views.values())
    }
    name = None
    if groups:
        group = st.segmented_control(
            "Group",
            list(groups),
            default=next(iter(groups)),
            required=True,
            format_func=GROUP_LABELS.get,
            key="sql_view_group",
            label_visibility="collapsed",
        )
        st.caption(f"{len(groups[group])} {GROUP_HELP[group]}")
        name = st.selectbox(
            "View",
            groups[group],
            format_func=lambda n: f"{n} — {views[n].summary}",
            key="sql_view",
        )
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
    ran = st.session_state.get(RESULT, ("",))[0]
    if len(ran) > data.URL_QUERY_CHARS:
        st.caption(
            f"This query is {len(ran):,} characters long: too long to keep in the page's link"
            f" (up to {data.URL_QUERY_CHARS:,}), so a reload or a shared link will not show it."
            " Save it in a file, or shorten it."
        )
    if RESULT in st.session_state:
        show_result(*st.session_state[RESULT])
