"""Text from the data written where it could act: a spreadsheet cell or a terminal.

A comment field is whatever a customer typed. In a CSV opened by a spreadsheet, a cell that
starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read as a formula (OWASP's CSV
injection list), so such cells get a leading apostrophe, which spreadsheets show as text. On a
terminal, control characters are commands (ESC ] 52 writes the clipboard, ESC [ 2J clears the
screen), so the table shows them escaped. JSON and Parquet keep every value exact.

Hand-written rather than defusedcsv: that library wraps Python's csv writer, and downloads are
written by Polars, a million rows at a time.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the SQL worker imports this module for escape() and needs no Polars
    import polars as pl

#: What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: C0 and C1 control characters, DEL, and the bidirectional overrides that reorder a line.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA = r"^[=+\-@\t\r]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def neutralise(text: str) -> str:
    """The text as a spreadsheet shows it and never runs it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def for_csv(frame: pl.DataFrame, raw: bool = False) -> pl.DataFrame:
    """The frame as CSV can hold it: lists and structs as JSON text, formulas neutralised
    unless raw (a Polars CSV writer refuses nested values outright)."""
    import polars as pl

    nested = [c for c, kind in frame.schema.items() if kind.is_nested()]
    as_json = (
        pl.when(pl.col(c).is_not_null())
        .then(pl.struct(pl.col(c).alias("v")).struct.json_encode().str.slice(5).str.head(-1))
        .alias(c)
        for c in nested
    )
    frame = frame.with_columns(as_json)
    return frame if raw else for_spreadsheet(frame)


def for_spreadsheet(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell and column name that could be a formula neutralised."""
    import polars as pl

    texts = [c for c, kind in frame.schema.items() if kind in (pl.String, pl.Categorical)]
    safe = frame.with_columns(pl.col(c).cast(pl.String).str.replace(_FORMULA, "'$0") for c in texts)
    return safe.rename({c: neutralise(c) for c in frame.columns if neutralise(c) != c})


def escape(text: str) -> str:
    """The text with control characters written out (`\\x1b`, `\\n`), safe on a terminal."""
    return _CONTROLS.sub(_written_out, text)


def escape_lines(text: str) -> str:
    """Rendered text (a table) with control characters escaped, its own line breaks kept."""
    return "\n".join(escape(line) for line in text.split("\n"))


def _written_out(match: re.Match) -> str:
    char = match[0]
    return _NAMED.get(char) or (
        f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
    )


def for_terminal(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with control characters escaped in its text cells and column names."""
    import polars as pl

    texts = [c for c, kind in frame.schema.items() if kind in (pl.String, pl.Categorical)]
    safe = frame.with_columns(
        pl.col(c).cast(pl.String).map_elements(escape, return_dtype=pl.String) for c in texts
    )
    return safe.rename({c: escape(c) for c in frame.columns if escape(c) != c})
