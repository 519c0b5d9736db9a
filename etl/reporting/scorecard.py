"""The department scorecard of a frozen month, laid out once for the Board snapshots page and
the board pack: a section per department function, each with its own columns (lists.SCORECARD).

Fed with the rows of the named query frozen_scorecard (a department's month beside the
evidence of the value window); only formats them. A figure carries its n; a missing one
says why in words, never "None".
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from etl.analyses import thresholds
from etl.contract.metrics import METRICS
from etl.reporting.formats import VERDICTS, format_value, missing, whole_points
from etl.reporting.lists import SCORECARD

#: Section titles and what their figures cover, by department function.
TITLES = {
    "frontline": ("Front line", "the month's figures of the units that answer customers"),
    "back_office": (
        "Back office",
        "the month's task SLA and occupancy, and what customers got from the cases each unit"
        f" held over the last {thresholds.VALUE_WINDOW_MONTHS} months",
    ),
    "support": ("Support", "units with no customer case: their month's own figures"),
}


@dataclass(frozen=True)
class Evidence:
    """A scorecard column of the value window (department_value), not a metric of the month."""

    label: str
    #: Column holding its n, and what the n counts.
    n: str
    counts: str
    #: Why it can be missing, in words.
    missing: str


EVIDENCE = {
    "promise_kept_held": Evidence(
        "promises kept on cases held", "promises_held", "promises held", "no promise held"
    ),
    "hours_added": Evidence(
        "hours added to resolve vs other back offices",
        "cases_held",
        "cases held",
        "no back office to compare with",
    ),
    "nps_gap": Evidence(
        "NPS vs other back offices",
        "nps_touched_n",
        "answers",
        "too little data to compare",
    ),
}


@dataclass(frozen=True)
class Cell:
    value: str
    n: str
    withheld: bool


@dataclass(frozen=True)
class Row:
    department: str
    cells: list[Cell]
    verdict: str
    colour: str


@dataclass(frozen=True)
class Section:
    function: str
    title: str
    covers: str
    columns: list[str]
    rows: list[Row]


def label(column: str) -> str:
    """A scorecard column's heading."""
    return EVIDENCE[column].label if column in EVIDENCE else METRICS[column].label


def columns(function: str) -> list[str]:
    """The headings of a function's section, as the page and the pack show them."""
    return [label(c) for c in SCORECARD[function]]


def _cell(row: dict, column: str) -> Cell:
    if column in EVIDENCE:
        evidence = EVIDENCE[column]
        figure, n = row.get(column), row.get(evidence.n)
        if missing(figure):
            return Cell(f"not available: {evidence.missing}", _n(n), True)
        if column == "promise_kept_held":
            shown = f"{figure:.1%}"
        elif column == "hours_added":
            shown = f"{figure:+,.1f} h"
        else:
            shown = f"{whole_points(figure)} pts"
        return Cell(shown, _n(n), False)
    figure, n = row[column], row[f"{column}_n"]
    if missing(figure):
        return Cell(row[f"{column}_note"] or "not available", _n(n), True)
    return Cell(format_value(column, figure), _n(n), False)


def _n(n: int | None) -> str:
    return f"n = {n or 0:,}"


def sections(card: pl.DataFrame) -> list[Section]:
    """The scorecard's sections, in the order of SCORECARD, each holding its departments."""
    shown = []
    for function, wanted in SCORECARD.items():
        rows = [
            Row(
                department=r["department_name"],
                cells=[_cell(r, c) for c in wanted],
                verdict=VERDICTS[r["verdict"]][0] if r["verdict"] else "not available",
                colour=VERDICTS[r["verdict"]][1] if r["verdict"] else "#bdc3c7",
            )
            for r in card.iter_rows(named=True)
            if r["department_function"] == function
        ]
        if rows:
            title, covers = TITLES[function]
            shown.append(Section(function, title, covers, columns(function), rows))
    return shown
