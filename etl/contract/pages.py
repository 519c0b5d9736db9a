"""The dashboard's pages, listed once: the name a URL and the access file use, title and icon."""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    """A dashboard page: its name (in the URL and the access file), title and icon."""

    name: str
    title: str
    icon: str


#: The dashboard's pages, in the navigation's order; the first is the default.
PAGES = (
    Page("overview", "Overview", ":material/dashboard:"),
    Page("conflicts", "KPI conflicts", ":material/compare_arrows:"),
    Page("departments", "Departments", ":material/apartment:"),
    Page("failure_demand", "Failure demand", ":material/replay:"),
    Page("employee_voice", "Employee voice", ":material/groups:"),
    Page("customers_words", "Customers' words", ":material/format_quote:"),
    Page("initiatives", "Initiatives", ":material/rocket_launch:"),
    Page("data_quality", "Data quality", ":material/fact_check:"),
    Page("sql_workbench", "SQL workbench", ":material/terminal:"),
    Page("board_snapshots", "Board snapshots", ":material/picture_as_pdf:"),
)
PAGE_NAMES = tuple(page.name for page in PAGES)
