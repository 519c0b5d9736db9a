"""Contract files as Excel writes them in most of Europe: Windows-1252 text separated by
semicolons, and "Unicode text" (UTF-16, tab-separated). Each is loaded as the same rows its
UTF-8, comma-separated twin gives, and the load says what it assumed."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from tests.conftest import invoke_cxkpi, write

DEPARTMENTS = "department_id,name,function,headcount\nFL,Front line,frontline,5\n"
HEADER = ["interaction_id", "started_at", "department_id", "handle_seconds", "channel"]
ROWS = [
    ["A1", "2026-01-05T09:00:00", "FL", "300", "phone"],
    ["A2", "2026-01-05T10:00:00", "FL", "-4", "chat"],  # quarantined: a negative handle time
    ["A3", "2026-01-06T09:30:00", "FL", "120", "email"],
]
#: Values that need the csv rules: the delimiter, a comma, a quote and a line end inside.
NOTES = ["Réclamation; client fâché", 'a "quoted", comma', "deux\nlignes à 12 €"]


def cxkpi(db: Path, *args: str, code: int = 0) -> str:
    result = invoke_cxkpi("--quiet", "--db", str(db), *args)
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result.stdout + result.stderr


def text(delimiter: str, header: list[str] | None = None) -> str:
    """The interactions file with a note column, quoted as Excel quotes it."""

    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", ",")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [header or [*HEADER, "note"]] + [[*r, n] for r, n in zip(ROWS, NOTES, strict=True)]
    return "".join(delimiter.join(map(cell, line)) + "\r\n" for line in lines)


def loaded(tmp_path: Path, name: str, content: bytes, *options: str, code: int = 1):
    """Load the file into a fresh warehouse: its raw rows, quarantine and load message."""
    db = tmp_path / f"{name}.duckdb"
    cxkpi(db, "load", "--no-build", str(write(tmp_path / name, "departments", DEPARTMENTS)))
    path = tmp_path / name / "interactions" / "2026-01.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    said = cxkpi(db, "load", "--no-build", *options, str(path), code=code)
    con = duckdb.connect(str(db), read_only=True)
    try:
        raw = con.execute(
            "SELECT * EXCLUDE (_load_id) FROM raw_interactions ORDER BY interaction_id"
        ).fetchall()
        quarantine = con.execute(
            'SELECT row_number, "column", rule, raw_record FROM meta_quarantine'
        ).fetchall()
        message = con.execute(
            "SELECT message FROM meta_load_runs WHERE source = 'interactions'"
        ).fetchall()
    finally:
        con.close()
    return raw, quarantine, message[0][0] if message else None, said


def notes(db: Path) -> list[str]:
    """The note column as stored (outside the contract, so in `_extra`)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT _extra->>'note' FROM raw_interactions ORDER BY interaction_id"
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


@pytest.fixture
def twin(tmp_path: Path):
    """What the UTF-8, comma-separated file gives."""
    return loaded(tmp_path, "utf8", text(",").encode())


def test_a_windows_1252_semicolon_file_loads_as_its_utf8_comma_twin(tmp_path, twin):
    raw, quarantine, message, said = loaded(tmp_path, "excel", text(";").encode("cp1252"))
    assert (raw, quarantine) == twin[:2]
    assert len(raw) == 2 and quarantine[0][:3] == (2, "handle_seconds", "range")
    assert notes(tmp_path / "excel.duckdb") == ["Réclamation; client fâché", "deux\nlignes à 12 €"]
    assert message.startswith("first: row 2, column handle_seconds"), message
    assert "read as Windows-1252, since it is not UTF-8: byte 0xe9 in line 2" in message
    assert "read as ';'-separated: its header splits on ';' into the interactions columns" in (
        message
    )
    assert "read as Windows-1252" in said  # the terminal line says it too


def test_excel_unicode_text_utf16_tab_separated_loads_as_its_twin(tmp_path, twin):
    raw, quarantine, message, _ = loaded(tmp_path, "unicode", text("\t").encode("utf-16"))
    assert (raw, quarantine) == twin[:2]
    assert "read as UTF-16: the file starts with its byte-order mark" in message
    assert "read as tab-separated: its header splits on a tab" in message


def test_stated_encoding_and_delimiter_are_used_and_recorded(tmp_path, twin):
    content = text("|").encode("iso-8859-15")  # the euro sign is 0xa4, read as '¤' in cp1252
    raw, quarantine, message, _ = loaded(
        tmp_path, "stated", content, "--encoding", "iso-8859-15", "--delimiter", "|"
    )
    assert (raw, quarantine) == twin[:2]
    assert notes(tmp_path / "stated.duckdb") == notes(tmp_path / "utf8.duckdb")
    assert "read as Latin-9 (ISO-8859-15), as --encoding stated" in message
    assert "read as '|'-separated, as --delimiter stated" in message


def test_a_stated_encoding_the_bytes_do_not_fit_refuses_the_file(tmp_path):
    raw, _, message, said = loaded(
        tmp_path, "wrong", text(";").encode("cp1252"), "--encoding", "utf-8"
    )
    assert raw == []
    assert "refused: not UTF-8: byte 0xe9 in line 2" in said
    assert "(as --encoding stated)" in message


def test_bytes_that_fit_no_encoding_refuse_the_file_with_where_utf8_failed(tmp_path):
    content = text(",").encode("cp1252").replace(b"\x80", b"\x81")  # the euro sign's byte
    raw, _, message, said = loaded(tmp_path, "nothing", content)
    assert raw == []
    assert "refused: not UTF-8: byte 0xe9 in line 2" in said
    assert "nor Windows-1252: byte 0x81 in line 5" in message


def test_a_control_character_is_not_taken_for_windows_1252_text(tmp_path):
    content = text(",").encode("cp1252").replace(b"12", b"\x0212")
    raw, _, message, _ = loaded(tmp_path, "control", content)
    assert raw == [] and "nor Windows-1252: byte 0x02" in message


def test_validate_reads_files_as_load_does_and_says_so(tmp_path):
    db = tmp_path / "w.duckdb"
    cxkpi(db, "load", "--no-build", str(write(tmp_path, "departments", DEPARTMENTS)))
    path = write(tmp_path, "interactions", "")
    path.write_bytes(text(";").encode("cp1252"))
    said = cxkpi(db, "validate", str(path), code=1)
    assert "invalid (3 read, 0 loaded, 1 quarantined)" in said
    assert "read as Windows-1252" in said and "read as ';'-separated" in said
    assert "row 2, column handle_seconds" in said


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["--delimiter", ";;"], "--delimiter takes one character"),
        (["--encoding", "cp1252", "--profile", "genesys"], "a profile states how"),
        (["--delimiter", ";", "--engine", "spark", "--lake", "x"], "go with the DuckDB engine"),
    ],
    ids=["unknown-encoding", "two-characters", "with-a-profile", "on-spark"],
)
def test_options_that_cannot_apply_are_refused_before_anything_is_read(tmp_path, options, words):
    path = write(tmp_path, "interactions", text(","))
    said = cxkpi(tmp_path / "w.duckdb", "load", *options, str(path), code=2)
    assert words in said
    assert not (tmp_path / "w.duckdb").exists()


def test_the_spark_engine_refuses_what_only_the_duckdb_engine_reads(tmp_path):
    from etl.contract.sources import INTERACTIONS
    from etl.errors import FileRefused
    from etl.scaleout.spark_load import _checked_header

    path = write(tmp_path, "interactions", "")
    path.write_bytes(text(";").encode("cp1252"))
    with pytest.raises(FileRefused) as refused:
        _checked_header(path, INTERACTIONS)
    assert "the Spark engine reads UTF-8, comma-separated files only" in refused.value.reason
    assert "read as Windows-1252" in refused.value.reason
    assert "load it with the DuckDB engine" in refused.value.reason
    plain = write(tmp_path / "plain", "interactions", text(","))
    assert _checked_header(plain, INTERACTIONS)[: len(HEADER)] == HEADER
