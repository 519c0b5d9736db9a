"""Display helpers shared by the pages: number formats, tiles, help texts, friendly errors."""

from __future__ import annotations

import re
from datetime import date, datetime

import polars as pl
import streamlit as st

from dashboard.data import DataUnavailable
from etl.contract.metrics import METRICS
from etl.reporting.formats import format_change, format_value, whole_points
from etl.reporting.sentences import theme_evidence_shares
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
    """A headline metric: its value, then both changes (on the period before, on a year before)
    as equal badges coloured by direction where clear of noise, then n and interval."""
    metric = row["metric"]
    shown = row["value"] is not None
    label = plain(row["label"][0].upper() + row["label"][1:])
    with st.container(border=True):
        st.metric(
            label,
            value(metric, row["value"]) if shown else _withheld(row["note"]),
            help=metric_help(metric) + " " + CLEAR_HELP,
        )
        if shown:
            st.markdown(change_badges(row))
    st.caption(tile_caption(row))


#: How a tile's badges are coloured, for its help text.
CLEAR_HELP = (
    "A change is coloured (green better, red worse) only when it is clear of noise: beyond the"
    " 95% margin of a sample, or 10% or more of a complete operational record. Otherwise it is"
    " grey: no clear change."
)


def change_badges(row: dict) -> str:
    """The two changes of a tile as Markdown badges, e.g. ':red-badge[↓ -9.0 pts on Oct 2025]'."""
    period = row.get("period")
    against_year = date(period.year - 1, period.month, 1) if period else None
    badges = [
        _badge(row, row["change_vs_previous"], row.get("is_change_clear"), row["previous_period"]),
        _badge(row, row["change_vs_year_ago"], row.get("is_year_change_clear"), against_year),
    ]
    return " ".join(b for b in badges if b)


def _badge(row: dict, number: float | None, clear: bool | None, against: date | None) -> str:
    if number is None or against is None:
        return ""
    text = f"{change(row['metric'], number)} vs {month_label(against)}"
    if not clear or number == 0:
        return f":gray-badge[{text}, no clear change]"
    better = (number > 0) == (row["better"] == "higher")
    arrow = ":material/arrow_upward:" if number > 0 else ":material/arrow_downward:"
    return f":{'green' if better else 'red'}-badge[{arrow} {text}]"


def _withheld(note: str) -> str:
    if note.startswith("too little data"):
        return "too little data"
    if note.startswith("not available"):
        return "not available"
    return "no data"


def tile_caption(row: dict) -> str:
    """n, interval and period of a tile, in one line."""
    parts = [f"n = {row['n']:,}"]
    if row["value"] is None:
        parts.append(plain(row["note"]))
    if row["ci_low"] is not None:
        parts.append(f"95% interval {row['ci_low']:+.1f} to {row['ci_high']:+.1f}")
    if row["period"] is not None and row["period"] != row["month"]:
        parts.append(f"wave of {month_label(row['period'])}")
    if row["value"] is not None and row["change_vs_year_ago"] is None:
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


#: Headers spelled as people write them, where the column name alone would not do.
HEADERS = {"sha256": "SHA-256", "enps": "eNPS", "nps": "NPS", "csat": "CSAT", "fcr": "FCR"}


def sentence_case(text: str) -> str:
    """lift after 1 month -> Lift after 1 month."""
    return text[:1].upper() + text[1:]


def header(column: str) -> str:
    """first_row_number -> First row number."""
    words = [HEADERS.get(w, w) for w in column.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def timestamp(moment: datetime | None) -> str:
    """2026-12-02 05:57 UTC: a stored time (the machine's local time) with its zone."""
    if moment is None:
        return DASH
    return f"{moment:%Y-%m-%d %H:%M} {datetime.now().astimezone().tzname()}"


def readable(frame: pl.DataFrame, view: str) -> tuple[pl.DataFrame, dict[str, str]]:
    """A view's rows for people: headers in words, months and times spelled out, yes/no for
    flags, lists joined; with each header's YAML description, for ui.table's helps."""
    cells = []
    for column, kind in frame.schema.items():
        c = pl.col(column)
        if kind == pl.Date:
            spell = month_label if column.endswith("month") else date.isoformat
            c = c.map_elements(spell, pl.String)
        elif kind == pl.Datetime:
            c = c.map_elements(timestamp, pl.String)
        elif kind == pl.Boolean:
            c = c.replace_strict({True: "yes", False: "no"}, return_dtype=pl.String)
        elif isinstance(kind, pl.List):
            c = c.list.join(", ")
        elif kind.is_numeric() and frame[column].null_count():
            c = c.map_elements(lambda n: f"{n:,}", pl.String)
        elif kind.is_numeric() and kind.is_integer() and kind != pl.Int64:
            c = c.cast(pl.Int64)
        cells.append(c.alias(header(column)))
    helps = {header(c): help_for(view, c) for c in frame.columns}
    return frame.select(cells), helps


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
        c: (
            st.column_config.NumberColumn(
                c, help=helps.get(c) or None, width=widths.get(c), format="localized"
            )
            if kind.is_numeric()
            else st.column_config.Column(c, help=helps.get(c) or None, width=widths.get(c))
        )
        for c, kind in shown.schema.items()
    }
    return st.dataframe(
        styled,
        hide_index=True,
        column_config=config,
        height=HEADER_PX + ROW_PX * min(max(shown.height, 1), 15) + 3,
        **options,
    )


def selected_row(picked, default: int = 0) -> tuple[int, bool]:
    """The row a table's selection points at (else default), and whether the user picked it."""
    rows = picked.selection.rows if picked else []
    return (rows[0], True) if rows else (default, False)


def reasons(title: str, text: str, more: bool) -> None:
    """The full reasons for a table's selected row, in a box under the table. title: Markdown
    the caller has made safe; text: from the data."""
    with st.container(border=True):
        st.markdown(f"**{title}.** {plain(text)}")
        if more:
            st.caption("Select another row to read its reasons.")


def count(number: int | None) -> str:
    """12,414."""
    return DASH if number is None else f"{number:,}"


def signed(number: float | None) -> str:
    """+5, -70 and 0: whole points with their sign."""
    return DASH if number is None else whole_points(number)


def words(evidence: pl.DataFrame, whose: str) -> None:
    """Under a finding: its department's top themes among detractors' comments, each against the
    organisation's share with the n, and its representative redacted comments as plain text."""
    with st.container(border=True):
        st.markdown("**In customers' words**")
        if evidence.is_empty():
            st.caption(
                f"No detractors' comments for {plain(whose)} in the months judged, or none you"
                " may read."
            )
            return
        first = evidence.row(0, named=True)
        st.caption(
            f"Top themes of what {plain(whose)}'s detractors (customers who scored 0 to 6)"
            f" wrote, {month_label(first['first_month'])} to {month_label(first['last_month'])}."
            " A comment may take several themes. Examples: the shortest clear comments,"
            " personal details replaced by markers."
        )
        for row in evidence.iter_rows(named=True):
            label = row["theme_label"] + (" (unreliable)" if row.get("reliable") is False else "")
            quotes = "".join(f"  \n> “{plain(comment)}”" for comment in row["examples"])
            st.markdown(
                f"**{plain(label)}**: {plain(theme_evidence_shares(row))}.  \n"
                + (
                    quotes.removeprefix("  \n")
                    or "No comment takes this theme clearly enough to quote."
                )
            )
