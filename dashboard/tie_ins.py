"""Links from a finding to what drives its department's customers' NPS (the Departments
page's "What moves its customers' NPS", from nps_drivers)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data, filters, ui

DRIVERS_PAGE = "departments"
LINK = "See what drives its customers' NPS"


def drivers_link(department: str, key: str) -> None:
    """The driver that costs the department's (or the organisation's, 'ALL') customers the
    most NPS, in a sentence, and a button to its drivers; nothing when the reader may not
    open the Departments page or nothing is weighed."""
    if not data.reader().may_open(DRIVERS_PAGE):
        return
    drivers = data.nps_drivers(department)
    if drivers.is_empty():
        return
    top = drivers.filter(pl.col("costs_most"))
    if not top.is_empty():
        st.caption(ui.plain(top["headline"][0]))
    st.button(
        LINK,
        key=key,
        icon=":material/arrow_forward:",
        type="tertiary",
        on_click=filters.open_page,
        args=(f"app_pages/{DRIVERS_PAGE}.py", department),
    )


def drivers_anchor() -> None:
    """On the Departments page itself: a link down to the drivers section."""
    st.markdown(f"[{LINK}](#what-moves-nps)")
