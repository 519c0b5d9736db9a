"""Reading and normalising exports: types, encodings and files refused as a whole."""

from __future__ import annotations

import re
from datetime import datetime

import polars as pl
import pytest

from etl.contract.sources import SOURCES
from etl.errors import FileRefused
from etl.loading.read import ROW, check_line_lengths, parse, raw_records, read_text_frame
from tests.conftest import write

INTERACTIONS = SOURCES["interactions"]
HEADER = "interaction_id,started_at,department_id,handle_seconds"


def parsed(tmp_path, text: str, source: str = "interactions"):
    path = write(tmp_path, source, text)
    return parse(path, SOURCES[source], read_text_frame(path))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("Y", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("N", False),
    ],
)
def test_booleans_accept_every_contract_spelling(tmp_path, text, expected):
    result = parsed(tmp_path, f"{HEADER},resolved\nA,2026-01-01T10:00:00,FL,60,{text}\n")
    assert result.typed["resolved"].to_list() == [expected]
    assert result.errors.is_empty()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5)),
        ("2026-01-02 03:04:05.250", datetime(2026, 1, 2, 3, 4, 5, 250000)),
        ("2026-01-02T03:04", datetime(2026, 1, 2, 3, 4)),
        ("2026-01-02", datetime(2026, 1, 2)),
        ("2026-01-02T03:04:05+02:00", datetime(2026, 1, 2, 1, 4, 5)),
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5)),
    ],
)
def test_timestamps_in_iso_8601_shapes_parse(tmp_path, text, expected):
    result = parsed(tmp_path, f"{HEADER}\nA,{text},FL,60\n")
    assert result.typed["started_at"].to_list() == [expected]


def test_a_column_mixing_timestamp_shapes_parses_every_row_in_its_place(tmp_path):
    # The usual shape is parsed first and the others only where it failed: rows must not
    # trade places or values between the two passes.
    shapes = [
        ("2026-01-02 03:04", datetime(2026, 1, 2, 3, 4)),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5)),
        ("", None),
        ("2026-01-02T03:04:05+02:00", datetime(2026, 1, 2, 1, 4, 5)),
        ("2026-01-03T00:00:01.5", datetime(2026, 1, 3, 0, 0, 1, 500000)),
        ("2026-01-04", datetime(2026, 1, 4)),
        ("yesterday", None),
        ("2026-01-05T06:07:08", datetime(2026, 1, 5, 6, 7, 8)),
    ]
    rows = "".join(f"R{i},{text},FL,60\n" for i, (text, _) in enumerate(shapes))
    result = parsed(tmp_path, f"{HEADER}\n{rows}")
    assert result.typed["started_at"].to_list() == [value for _, value in shapes]
    assert result.errors.select(ROW, "column").rows() == [(7, "started_at")]


@pytest.mark.parametrize(
    ("value", "rule"),
    [("yesterday", "type:timestamp"), ("02/01/2026", "type:timestamp")],
)
def test_unparseable_timestamp_is_a_type_error_naming_row_and_column(tmp_path, value, rule):
    result = parsed(tmp_path, f"{HEADER}\nA,2026-01-01T10:00:00,FL,60\nB,{value},FL,60\n")
    assert result.errors.select(ROW, "column", "rule").rows() == [(2, "started_at", rule)]
    assert value in result.errors["message"][0]


def test_whole_numbers_written_as_decimals_are_accepted_fractions_are_not(tmp_path):
    result = parsed(tmp_path, f"{HEADER}\nA,2026-01-01,FL,60.0\nB,2026-01-01,FL,12.5\n")
    assert result.typed["handle_seconds"].to_list() == [60, None]
    assert result.errors.select(ROW, "rule").rows() == [(2, "type:int")]


def test_extra_columns_are_kept_as_json(tmp_path):
    result = parsed(tmp_path, f"{HEADER},queue\nA,2026-01-01,FL,60,vip\n")
    assert result.typed["_extra"].to_list() == ['{"queue":"vip"}']


def test_engagement_keeps_only_q_items_and_drops_identifying_columns(tmp_path):
    text = (
        "response_id,wave,department_id,employee_id,email,q_engaged,q_extra\n"
        "E1,2026-01-01,FL,12345,ann@example.com,4,5\n"
    )
    result = parsed(tmp_path, text, "engagement_responses")
    assert result.dropped_columns == ["employee_id", "email"]
    records = raw_records(result.text, result.typed[ROW]).write_csv()
    assert "12345" not in result.typed.write_csv() + records and "ann@" not in records
    assert "<redacted>" in records
    assert result.typed["_extra"].to_list() == ['{"q_extra":"5"}']


def test_header_names_are_trimmed_and_lowercased_and_bom_removed(tmp_path):
    path = tmp_path / "interactions" / "bom.csv"
    path.parent.mkdir()
    path.write_bytes(
        "\ufeffInteraction_ID, started_at ,department_id,handle_seconds\n"
        "A,2026-01-01,FL,60\n".encode()
    )
    result = parse(path, INTERACTIONS, read_text_frame(path))
    assert result.typed["interaction_id"].to_list() == ["A"]


def test_parquet_files_read_like_csv(tmp_path):
    path = tmp_path / "interactions" / "x.parquet"
    path.parent.mkdir()
    pl.DataFrame(
        {
            "interaction_id": ["A"],
            "started_at": [datetime(2026, 1, 1, 9)],
            "department_id": ["FL"],
            "handle_seconds": [60],
            "resolved": [True],
        }
    ).write_parquet(path)
    result = parse(path, INTERACTIONS, read_text_frame(path))
    assert result.typed.select("started_at", "handle_seconds", "resolved").row(0) == (
        datetime(2026, 1, 1, 9),
        60,
        True,
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (HEADER.encode() + b"\n", "header but no data rows"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary content"),
        (
            (HEADER + "\nA,2026-01-01,Caf\xe9,60\n").encode("latin-1"),
            "not UTF-8: byte 0xe9",
        ),
        (HEADER.replace(",", ";").encode() + b"\nA;2026-01-01;FL;60\n", "delimited by something"),
    ],
    ids=["empty", "header-only", "binary", "latin-1", "semicolon"],
)
def test_unreadable_files_are_refused_with_a_reason(tmp_path, content, message):
    path = tmp_path / "interactions" / "bad.csv"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(FileRefused, match=message):
        parse(path, INTERACTIONS, read_text_frame(path))


def test_missing_required_column_names_it_and_the_source_it_looks_like(tmp_path):
    path = write(
        tmp_path, "interactions", "department_id,name,function,headcount\nFL,F,frontline,1\n"
    )
    with pytest.raises(FileRefused) as refused:
        parse(path, INTERACTIONS, read_text_frame(path))
    assert "interaction_id" in refused.value.reason
    assert "look like source 'departments'" in refused.value.reason


def test_a_file_that_is_neither_csv_nor_parquet_is_refused(tmp_path):
    path = write(tmp_path, "interactions", "whatever", "export.xlsx")
    with pytest.raises(FileRefused, match="not a CSV or Parquet file"):
        read_text_frame(path)


@pytest.mark.parametrize(
    ("content", "refused"),
    [
        (b"abc\n0123456789\n", None),
        (b"abc\n0123456789a\n", "line 2 (row 1)"),
        (b"abc\n0123456789a", "line 2 (row 1)"),
        (b"01234567890\nab\n", "the header"),
        (b"a\nb\nc\nd\n" + b"x" * 11, "line 5 (row 4)"),
    ],
)
def test_a_line_longer_than_the_limit_refuses_the_file_naming_it(tmp_path, content, refused):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    if refused is None:
        check_line_lengths(path, limit=10)
        return
    with pytest.raises(FileRefused, match=re.escape(refused)):
        check_line_lengths(path, limit=10)


def test_line_lengths_are_measured_across_read_blocks(tmp_path):
    path = tmp_path / "x.csv"
    short = b"I1,2026-01-01,FL,60\n" * 900_000  # 18 MB of short lines: more than one block
    path.write_bytes(short)
    check_line_lengths(path)
    path.write_bytes(short[: 16_000_000 // 20 * 20] + b"x" * (2 << 20) + b"\n" + short[:100])
    with pytest.raises(FileRefused, match=r"line 800001 \(row 800000\) is longer than 1 MiB"):
        check_line_lengths(path)


@pytest.mark.parametrize(
    ("content", "empty"),
    [
        (b"a,b\n1,2\n3,4\n", None),
        (b"a,b\n1,2\n3,4", None),
        (b"a,b\n,\n3,4\n", None),  # empty values, not an empty line
        (b"a,b\n1,2\n\n3,4\n", "line 3"),
        (b"a,b\r\n1,2\r\n\r\n3,4\r\n", "line 3"),
        (b"a,b\n1,2\n3,4\n\n", "line 4"),
        (b"\na,b\n", "line 1"),
    ],
)
def test_the_spark_engine_s_empty_line_check_names_the_line(tmp_path, content, empty):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    check_line_lengths(path)  # the DuckDB engine reads an empty line as a row of empty values
    if empty is None:
        check_line_lengths(path, empty_lines="why")
        return
    with pytest.raises(FileRefused, match=f": {empty} is empty: why$"):
        check_line_lengths(path, empty_lines="why")


def test_empty_lines_are_found_across_read_blocks(tmp_path):
    path = tmp_path / "x.csv"
    lines = b"I1,2026-01-01,FL,60\r\n" * 900_000  # more than one 16 MiB block
    cut = (1 << 24) // 21 * 21 + 21  # the empty line starts in the second block
    path.write_bytes(lines[:cut] + b"\r\n" + lines[:210])
    with pytest.raises(FileRefused, match=f"line {cut // 21 + 1} is empty"):
        check_line_lengths(path, empty_lines="why")


@pytest.mark.parametrize(
    ("content", "lines", "odd_space", "padded"),
    [
        ("a,b\n1,2\n", 2, False, False),
        ("a,b\n1,2", 2, False, False),
        ("a,b\r\n1,Front Line\r\n", 2, False, False),
        ("a,b\n1, 2\n", 2, False, True),
        ("a,b\n1 ,2\n", 2, False, True),
        ('a,b\n1,"2 "\n', 2, False, True),
        ("a,b\n1,2 \r\n", 2, False, True),
        ("a,b\n1,2\t\n", 2, True, False),  # a tab: white space DuckDB would not trim
        ("a,b\n1,2\rx\n", 2, True, False),
        ("a,b\n1,\u00a02\n", 2, True, False),
        ("a,b\n1,2\u3000\n", 2, True, False),
        ("a,b\n1,\u201cquoted\u201d caf\u00e9 \u20ac\n3,4\n", 3, False, False),
        ("", 0, False, False),
    ],
)
def test_the_line_scan_counts_lines_and_finds_white_space_to_trim(
    tmp_path, content, lines, odd_space, padded
):
    """What etl/loading/ingest.py needs to know before DuckDB types a file: the lines, white space
    other than the space (DuckDB trims spaces only), and spaces a value starts or ends with."""
    path = tmp_path / "x.csv"
    path.write_bytes(content.encode())
    found = check_line_lengths(path)
    assert (found.lines, found.odd_space, found.padded) == (lines, odd_space, padded)


@pytest.mark.parametrize("block", [5, 1 << 24], ids=["tiny-blocks", "one-block"])
@pytest.mark.parametrize(
    "content",
    [
        b"a,b\n1,2\n",
        "a,b\n1,caf\u00e9 \u00a0\n2,\u20ac\r\n3,x".encode(),
        b"a,b\n1,2\n3,caf\xe9\n4,\xe2\x82\n",
        b"a,b\n1,2\n3,\xe2\x82",
    ],
    ids=["ascii", "utf-8", "latin-1-on-line-3", "cut-at-the-end"],
)
def test_one_pass_finds_what_the_separate_passes_find(tmp_path, monkeypatch, block, content):
    """scan_file hashes, line-scans and UTF-8-checks a file in one pass: the same digest,
    lines and first non-UTF-8 byte as the separate passes, across block boundaries."""
    import hashlib

    from etl.loading import read
    from etl.loading.dialect import _misfit, _not_utf8

    monkeypatch.setattr(read, "_BLOCK", block)
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    scanned = read.scan_file(path)
    assert scanned.digest == hashlib.sha256(content).hexdigest()
    assert scanned.lines == read.check_line_lengths(path)
    assert _not_utf8(scanned) == _misfit(path, "utf-8")


def test_one_pass_records_a_line_too_long_instead_of_raising(tmp_path):
    from etl.loading import read

    path = tmp_path / "f.csv"
    path.write_bytes(b"a,b\n1," + b"x" * (read.MAX_LINE_BYTES + 1) + b"\n")
    scanned = read.scan_file(path)
    assert scanned.refusal.startswith("line 2 (row 1) is longer than 1 MiB")
    assert scanned.digest and scanned.lines is None
