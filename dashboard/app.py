"""cxkpi dashboard: where productivity KPIs work against customers."""

from pathlib import Path

import streamlit as st

from dashboard import data, filters, gate, ui
from dashboard.data import DataUnavailable
from etl.contract.pages import PAGES

HERE = Path(__file__).parent

st.set_page_config(
    page_title="cxkpi",
    page_icon=str(HERE / "static" / "favicon.png"),
    layout="wide",
    initial_sidebar_state="expanded",
)

PAGES = {
    page.name: st.Page(
        f"app_pages/{page.name}.py",
        title=page.title,
        icon=page.icon,
        default=page == PAGES[0],
    )
    for page in PAGES
}

# Who is looking decides which pages exist in this run: a page opened by URL that the
# reader may not open is not in the navigation, so it cannot run.
reader = gate.admit()
data.pin(reader)
page = st.navigation([p for name, p in PAGES.items() if reader.may_open(name)])

st.logo(str(HERE / "static" / "logo.png"), size="large")
try:
    st.session_state["cx_filters"] = filters.sidebar()
except DataUnavailable as problem:
    # Pages that need no filters (data quality) still run; the others say what is wrong.
    st.session_state["cx_filters"] = problem
if (target := st.session_state.pop(filters.OPEN_PAGE, None)) and reader.may_open(Path(target).stem):
    # An empty mapping, not None: Streamlit refuses to clear parameters bound to widgets;
    # the filters put theirs back when the page draws them.
    st.switch_page(target, query_params={})
try:
    page.run()
except DataUnavailable as problem:
    ui.unavailable(problem)
