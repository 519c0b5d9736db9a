"""The sidebar filters (period, department, channel), kept in the URL so a link reproduces a view.

Streamlit binds a widget to the URL by the label it shows, so links say
`?department=Billing&channel=Phone&period=Jan+2026&period=Oct+2026`.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import data
from dashboard.data import Filters
from etl.reporting.formats import parse_month

#: Months the period covers by default (ending with the reporting month, the last complete one).
DEFAULT_MONTHS = 12
#: The department filter's label for all departments together.
ORGANISATION = "Whole organisation"
#: Session key of a page a button asked to open on the next run.
OPEN_PAGE = "cx_open_page"


def sidebar() -> Filters:
    """Draw the filters in the sidebar and return what they select."""
    options = data.filter_values()
    months = options["month"]["value"].to_list()
    if not months:
        raise data.DataUnavailable(
            "The warehouse holds no monthly figures yet.",
            "Load your exports with `cxkpi load <folder>`, or run `cxkpi demo`.",
        )
    month_labels = dict(zip(months, options["month"]["label"], strict=True))
    progress = dict(zip(months, options["month"]["detail"], strict=True))
    defaults = options["month"].filter(pl.col("is_default"))["value"].to_list()
    last = months.index(defaults[0]) if defaults else len(months) - 1
    departments = dict(
        zip(options["department"]["value"], options["department"]["label"], strict=True)
    )
    channels = dict(zip(options["channel"]["value"], options["channel"]["label"], strict=True))
    with st.sidebar:
        st.markdown("**Filters**")
        start, end = st.select_slider(
            "Period",
            options=months,
            value=(months[max(0, last + 1 - DEFAULT_MONTHS)], months[last]),
            format_func=month_labels.get,
            key="period",
            bind="query-params",
            help="Trend charts cover the period; tiles show its last month, or the last"
            " complete month when a later one is still loading.",
        )
        department = st.selectbox(
            "Department",
            options=["ALL", *departments],
            format_func=lambda d: ORGANISATION if d == "ALL" else departments[d],
            key="department",
            bind="query-params",
        )
        channel = st.selectbox(
            "Channel",
            options=["all", *channels],
            format_func=lambda c: "All channels" if c == "all" else channels[c],
            key="channel",
            bind="query-params",
            help="Workforce, task and employee-survey figures have no channel; "
            "they always cover all channels.",
        )
    period = months[months.index(start) : months.index(end) + 1]
    return Filters(
        start=parse_month(start),
        end=parse_month(end),
        department=department,
        department_name="the organisation" if department == "ALL" else departments[department],
        channel=channel,
        headline=parse_month(min(end, months[last])),
        in_progress=tuple(progress[m] for m in period if progress[m]),
    )


def open_page(page: str, department: str, **more: str) -> None:
    """Button callback: select a department (and other widget values), then open a page.

    A link's query parameters do not move a widget that already has a value in the
    session, so in-app links set the state here and app.py switches page on the rerun.
    """
    st.session_state["department"] = department
    st.session_state.update(more)
    st.session_state[OPEN_PAGE] = page


def current() -> Filters:
    """The filters the sidebar set in this run (app.py draws them before the page)."""
    selected = st.session_state["cx_filters"]
    if isinstance(selected, data.DataUnavailable):
        raise selected
    return selected
