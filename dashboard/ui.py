"""Display helpers shared by the pages: number formats, tiles, help texts, friendly errors."""

from __future__ import annotations

import re
from datetime import date

import polars as pl
import streamlit as st

from dashboard.data import DataUnavailable
from etl.contract.metrics import METRICS
from etl.reporting.formats import format_change, format_value
from etl.warehouse.catalog import description
from etl.warehouse.models import discover

#: Marks Streamlit's Markdown gives a meaning anywhere in a line: emphasis, code, links and
#: images, HTML, entities, `$...$` maths, tables, and a colon before a word (`:red[...]`
#: directives, `:smile:` shortcodes, `:material/...:` icons), an underscore but inside a word
#: (where it emphasises nothing: `first_contact` stays as written).
_INLINE = re.compile(r"([\\`*~\[\]<>&${}|]|:(?=\S)|(?<![^\W_])_|_(?![^\W_]))")
#: Marks that mean something at the start of a line: lists, headings, quotes, rules.
_LINE_START = re.compile(r"^(\s*(?:\d+)?)([-+*#>=.)])")
#: What Streamlit finds in text after Markdown has run (bare URLs, addresses, shortcodes):
#: an invisible word joiner splits each so that no pattern matches.
_AFTER_MARKDOWN = re.compile(r"(?<=:)(?=[\w/+-])|(?<=[\w.+-])(?=@)|(?<=www)(?=\.)", re.I)
JOINER = "\u2060"


def plain(text: object) -> str:
    """Text from the data or a sign-in claim as Markdown that shows exactly that text.

    Every page routes such text through here (tests/security/test_text_from_data.py): a
    department named `![x](http://...)` would otherwise make each visitor's browser fetch it.
    """
    one_line = "".join(c if c.isprintable() else " " for c in str(text))
    escaped = _INLINE.sub(r"\\\1", _AFTER_MARKDOWN.sub(JOINER, one_line))
    return _LINE_START.sub(r"\1\\\2", escaped, count=1)


@st.cache_resource(show_spinner=False)
def _models() -> dict:
    return discover()


def help_for(view: str, column: str) -> str:
    """A column's description from the YAML behind docs/data-dictionary.md."""
    models = _models()
    return description(models[view], column, models) or ""


def documented(view: str, columns) -> dict:
    """Column settings for a table of a view: readable headers, each column's YAML description."""
    return {
        c: st.column_config.Column(c.replace("_", " "), help=help_for(view, c)) for c in columns
    }


def metric_help(metric: str) -> str:
    """A metric's definition, direction and minimum sample, for help text."""
    m = METRICS[metric]
    return (
        f"{help_for('department_month', metric)} {m.better.capitalize()} is better. "
        f"n counts {m.n_counts}; below {m.min_n} the figure is withheld."
    )


def value(metric: str, number: float | None) -> str:
    """A metric's value in its unit, for people."""
    return format_value(metric, number)


def change(metric: str, number: float | None) -> str | None:
    """A change of a metric in its unit (shares in percentage points)."""
    return format_change(metric, number)


def pair_label(productivity: str, outcome: str) -> str:
    """handle time vs NPS."""
    return f"{METRICS[productivity].label} vs {METRICS[outcome].label}"


def month_label(month: date | None) -> str:
    """Oct 2026."""
    return month.strftime("%b %Y") if month else "–"


def in_progress_note(headline: date, end: date) -> str:
    """What the tiles show while a month of the period is still in progress."""
    if headline < end:
        return f"The tiles show {month_label(headline)}, the last complete month."
    return "No month is complete yet: the tiles show this one, and its figures will still move."


def tile(row: dict) -> None:
    """A headline metric: value, change on the period before, year on year, n and interval."""
    metric = row["metric"]
    shown = row["value"] is not None
    label = plain(row["label"][0].upper() + row["label"][1:])
    st.metric(
        label,
        value(metric, row["value"]) if shown else _withheld(row["note"]),
        delta=change(metric, row["change_vs_previous"]) if shown else None,
        delta_color="normal" if row["better"] == "higher" else "inverse",
        help=metric_help(metric),
        border=True,
    )
    st.caption(tile_caption(row))


def _withheld(note: str) -> str:
    if note.startswith("too little data"):
        return "too little data"
    if note.startswith("not available"):
        return "not available"
    return "no data"


def tile_caption(row: dict) -> str:
    """n, interval, period and comparisons of a tile, in one line."""
    metric = row["metric"]
    parts = [f"n = {row['n']:,}"]
    if row["value"] is None:
        parts.append(plain(row["note"]))
    if row["ci_low"] is not None:
        parts.append(f"95% CI {row['ci_low']:+.1f} to {row['ci_high']:+.1f}")
    if row["period"] is not None and row["period"] != row["month"]:
        parts.append(f"wave of {month_label(row['period'])}")
    if row["previous_value"] is not None and row["value"] is not None:
        parts.append(f"vs {month_label(row['previous_period'])}")
    if row["change_vs_year_ago"] is not None:
        parts.append(f"year on year {change(metric, row['change_vs_year_ago'])}")
    elif row["value"] is not None:
        parts.append("no figure a year before")
    if row["is_all_channels"]:
        parts.append("all channels (no channel in its source)")
    return " · ".join(parts)


def unavailable(problem: DataUnavailable) -> None:
    """A friendly stop: what is wrong and the command that fixes it."""
    st.warning(f"**{problem.problem}**\n\n{problem.fix}", icon=":material/database:")


#: What a cell without a figure shows when no more specific reason applies.
DASH = "—"
#: Background of the rows of the department the filter selects.
HIGHLIGHT = "background-color: #fdf2d0"
#: Departments' functions in words.
FUNCTIONS = {"frontline": "Front line", "back_office": "Back office", "support": "Support"}
#: Pixel height of one table row and of the header, as Streamlit draws them.
ROW_PX, HEADER_PX = 35, 35


def shown_or_dash(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every missing cell of a text column as a dash, never None."""
    return frame.with_columns(
        pl.col(c).fill_null(DASH) for c, kind in frame.schema.items() if kind == pl.String
    )


def table(
    frame: pl.DataFrame,
    *,
    helps: dict[str, str] | None = None,
    highlight: list[bool] | None = None,
    widths: dict[str, str] | None = None,
    **options,
):
    """A table for people: its columns already carry their labels; every row shows without
    scrolling the table (up to 15), the highlighted rows tinted; the selection is returned."""
    shown = shown_or_dash(frame)
    styled = shown.to_pandas()
    if highlight and any(highlight):
        tints = [HIGHLIGHT if h else "" for h in highlight]
        styled = styled.style.apply(lambda column: tints, axis=0)
    helps, widths = helps or {}, widths or {}
    config = {
        c: st.column_config.Column(c, help=helps.get(c) or None, width=widths.get(c))
        for c in shown.columns
    }
    return st.dataframe(
        styled,
        hide_index=True,
        column_config=config,
        height=HEADER_PX + ROW_PX * min(max(shown.height, 1), 15) + 3,
        **options,
    )


def count(number: int | None) -> str:
    """12,414."""
    return DASH if number is None else f"{number:,}"


def signed(number: float | None) -> str:
    """+5, -70 and 0: whole points with their sign."""
    if number is None:
        return DASH
    whole = round(number)
    return f"{whole:+d}" if whole else "0"
