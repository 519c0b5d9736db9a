"""Every table a person sees reads like a product: human headers, no None or NaN in a cell.

Walks every page under AppTest, for the organisation, a front-line and a back-office unit,
and looks at each frame the page hands to Streamlit, as the browser would draw it (a
snapshot's tables: tests/app/test_board_snapshots.py, which has a warehouse with one).
"""

from __future__ import annotations

import math
import re

import pandas as pd
import pytest

from dashboard import data
from tests.app.test_pages import PAGES, open_app

#: Cells that say nothing to a person: what None, NaN and NaT look like once drawn.
EMPTY_WORDS = {"none", "nan", "nat", "null", "<na>"}
#: A header written as a column name: snake_case, or starting lowercase (but for a term
#: spelled that way, like eNPS).
RAW_HEADER = re.compile(r"_|^[a-z](?![A-Z])")
#: The workbench's result frame shows the analyst's own query as it came back; its browser of
#: views is checked like every other table.
VIEWS = {"the organisation": {}, "a front line": {"department": "Billing"}}
VIEWS["a back office"] = {"department": "Claims Processing"}


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    """The pages' cached connections and sandbox must not outlive this file's walks."""
    yield
    data.clear_cache()


def problems(frame: pd.DataFrame) -> list[str]:
    """What in a displayed frame a person should never see."""
    found = [f"header {c!r}" for c in frame.columns if RAW_HEADER.search(str(c))]
    for column in frame.columns:
        for row, cell in enumerate(frame[column].tolist()):
            blank = cell is None or (isinstance(cell, float) and math.isnan(cell))
            if blank or str(cell).strip().lower() in EMPTY_WORDS:
                found.append(f"{column!r} row {row}: {cell!r}")
    return found


#: Pages whose tables the department filter does not change: walked once, for the organisation.
UNFILTERED = ("data_quality", "sql_workbench", "board_snapshots")
WALKS = [
    (page, view)
    for page in PAGES
    for view in VIEWS
    if page not in UNFILTERED or view == "the organisation"
]


@pytest.mark.parametrize(("page", "view"), WALKS)
def test_every_displayed_table_has_human_headers_and_no_empty_cells(
    sample_db, monkeypatch, page, view
):
    app = open_app(sample_db, monkeypatch, page, **VIEWS[view])
    assert not app.exception, [e.value for e in app.exception]
    found = {i: problems(frame.value) for i, frame in enumerate(app.dataframe)}
    assert not {i: p for i, p in found.items() if p}, found


def test_the_check_catches_raw_headers_and_empty_cells():
    """The walk above is only as good as this: a raw frame fails it, a product one passes."""
    raw = pd.DataFrame({"nps_gap": [1.0, None], "Verdict": ["neutral", "None"]})
    assert problems(raw) == ["header 'nps_gap'", "'nps_gap' row 1: nan", "'Verdict' row 1: 'None'"]
    assert problems(pd.DataFrame({"verdict": ["neutral"], "eNPS": ["+5"]})) == ["header 'verdict'"]
    assert problems(pd.DataFrame({"NPS vs peers": ["+5 (+3 to +8)", "too few answers"]})) == []
