"""Mapping profiles: every mistake in a profile named by line; foreign exports mapped exactly."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from etl.contract import profiles
from etl.contract.profiles import ProfileError, find, parse
from etl.loading.load import load_file
from etl.warehouse.publish import writing
from tests.conftest import DEPARTMENTS_CSV, invoke_cxkpi

GOOD = """\
source: interactions
description: A contact-centre platform's export
read:
  delimiter: ";"
  encoding: latin-1
  header_row: 3
columns:
  interaction_id: Ticket
  started_at:
    timestamp:
      date: Day
      date_format: "%d/%m/%Y"
      time: Time
      time_format: "%H:%M"
  department_id:
    column: Team
    values:
      Front: FL
      Back: BO
  handle_seconds:
    expression: "CAST(minutes AS DOUBLE) * 60"
  channel:
    column: Media
    values: {TEL: phone, MAIL: email}
  customer_id:
    constant: null
filters:
  - exclude: "Status = 'ABANDONED'"
    reason: abandoned before answer
drop: [Agent Name]
"""
EXPORT = (
    "Platform export\n"
    "generated 2026-02-01\n"
    "Ticket;Day;Time;Team;minutes;Media;Status;Agent Name\n"
    "T1;03/01/2026;09:15;Front;5;TEL;DONE;Zoë Müller\n"
    "T2;31/02/2026;10:00;Back;3;MAIL;DONE;Renée Côté\n"
    "T3;04/01/2026;11:30;Front;0;TEL;ABANDONED;Zoë Müller\n"
    "T4;05/01/2026;12:45;Café;2;FAX;DONE;Zoë Müller\n"
)


def profile_file(tmp_path: Path, text: str, name: str = "platform") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A warehouse holding the two reference departments (FL, BO)."""
    reference = tmp_path / "departments" / "departments.csv"
    reference.parent.mkdir()
    reference.write_text(DEPARTMENTS_CSV)
    db = tmp_path / "w.duckdb"
    with writing(db) as con:
        load_file(con, reference, None)
    return db


def load_with(db: Path, path: Path, profile_path: Path):
    with writing(db) as con:
        return load_file(con, path, None, profile=parse(profile_path))


def query(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


BROKEN = {
    "bad-yaml": ("source: interactions\ncolumns: [unclosed\n", 3, "not valid YAML"),
    "unknown-source": ("source: calls\ncolumns: {}\n", 1, "unknown source 'calls'"),
    "no-source": ("columns: {}\n", 1, "'source' is missing"),
    "unknown-key": (GOOD + "mapping: {}\n", 31, "unknown key 'mapping'"),
    "no-such-contract-column": (
        GOOD.replace("  interaction_id: Ticket\n", "  interaction_id: Ticket\n  talk: x\n"),
        9,
        "'talk' is not a column of source 'interactions'",
    ),
    "required-unmapped": (
        GOOD.replace("  interaction_id: Ticket\n", ""),
        7,
        "required column(s) interaction_id of source 'interactions' are not mapped",
    ),
    "expression-does-not-parse": (
        GOOD.replace("CAST(minutes AS DOUBLE) * 60", "minutes *"),
        21,
        "the expression does not parse",
    ),
    "timestamp-without-format": (
        GOOD.replace('      date_format: "%d/%m/%Y"\n', ""),
        10,
        "'date_format' is missing for 'date'",
    ),
    "two-ways-for-one-column": (
        GOOD.replace("    column: Team\n", "    column: Team\n    constant: FL\n"),
        15,
        "needs exactly one of column, timestamp, date, duration, constant, expression",
    ),
    "bad-scale": (
        GOOD.replace(
            "  customer_id:\n    constant: null\n",
            "  wait_seconds:\n    column: wait\n    scale: {from: [4, 1]}\n",
        ),
        27,
        "scale must be {from: [low, high], to: [low, high]}",
    ),
    "bad-encoding": (GOOD.replace("latin-1", "ebcdic"), 5, "encoding 'ebcdic' is not one of"),
    "long-delimiter": (GOOD.replace('";"', '";;"'), 4, "delimiter must be one character"),
    "made-from-personal-data": (
        GOOD.replace("  interaction_id: Ticket", "  interaction_id: Agent Name"),
        8,
        "'interaction_id' is made from dropped (personal) column(s) agent name",
    ),
    "filter-without-reason": (
        GOOD.replace("    reason: abandoned before answer\n", ""),
        28,
        "a filter needs exactly 'exclude' (a condition) and 'reason'",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_profile_mistake_is_one_message_naming_the_line(tmp_path, case):
    text, line, words = BROKEN[case]
    path = profile_file(tmp_path, text)
    with pytest.raises(ProfileError) as error:
        parse(path)
    assert str(error.value).startswith(f"{path}:{line}: "), str(error.value)
    assert words in str(error.value)


def test_a_foreign_csv_is_mapped_filtered_and_quarantined_with_what_was_sent(tmp_path, warehouse):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    result = load_with(warehouse, export, profile_file(tmp_path, GOOD))
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (3, 1, 2)
    assert result.rows_filtered == 1
    assert query(
        warehouse,
        "SELECT interaction_id, started_at::VARCHAR, department_id, handle_seconds, channel,"
        " customer_id, _row_number FROM raw_interactions",
    ) == [("T1", "2026-01-03 09:15:00", "FL", 300, "phone", None, 1)]
    problems = query(
        warehouse,
        'SELECT row_number, "column", rule, raw_record FROM meta_quarantine ORDER BY 1, 2',
    )
    assert [p[:3] for p in problems] == [
        (2, "started_at", "format:timestamp"),  # 31 February does not match the format
        (4, "department_id", "known_department"),  # Café has no mapping (nor has FAX)
    ]
    sent = json.loads(problems[1][3])
    assert sent == {
        "ticket": "T4",
        "day": "05/01/2026",
        "time": "12:45",
        "team": "Café",
        "minutes": "2",
        "media": "FAX",
        "status": "DONE",
    }  # as sent, decoded from Latin-1, without the dropped agent name
    assert "Müller" not in str(query(warehouse, "SELECT * FROM meta_quarantine"))
    (filtered, reasons, label) = query(
        warehouse, "SELECT rows_filtered, filtered, profile FROM meta_load_runs WHERE load_id = 2"
    )[0]
    assert (filtered, json.loads(reasons)) == (1, {"abandoned before answer": 1})
    assert label.startswith("platform@")


def test_an_excel_export_is_read_from_the_named_sheet(tmp_path, warehouse):
    export = tmp_path / "export.xlsx"
    frame = pl.DataFrame(
        {
            "Ticket": ["X1", "X2"],
            "Opened": ["2026-01-05 08:00", "2026-01-06 09:30"],
            "Team": ["Back", "Front"],
            "Seconds": [120, 45],
        }
    )
    frame.write_excel(export, worksheet="Calls")
    profile = profile_file(
        tmp_path,
        """\
        source: interactions
        read: {sheet: Calls}
        columns:
          interaction_id: ticket
          started_at: {timestamp: {column: opened, format: "%Y-%m-%d %H:%M"}}
          department_id: {column: team, values: {Front: FL, Back: BO}}
          handle_seconds: seconds
        """,
    )
    result = load_with(warehouse, export, profile)
    assert (result.rows_read, result.rows_loaded) == (2, 2)
    assert query(
        warehouse, "SELECT interaction_id, department_id, handle_seconds FROM raw_interactions"
    ) == [("X1", "BO", 120), ("X2", "FL", 45)]


def test_scales_convert_and_reverse(tmp_path):
    export = tmp_path / "survey.csv"
    export.write_text("id,answer\n" + "".join(f"R{v},{v}\n" for v in (1, 2, 3, 4, 5)) + "R9,x\n")
    path = profile_file(
        tmp_path,
        """\
        source: nps_responses
        columns:
          response_id: id
          responded_at: {constant: "2026-01-01"}
          csat: {column: answer, scale: {from: [1, 5], to: [1, 5]}, reverse: true}
          effort: {column: answer, scale: {from: [1, 5], to: [1, 7]}}
        """,
    )
    mapped = parse(path).scan(export).collect()
    assert mapped["csat"].to_list() == ["5", "4", "3", "2", "1", "x"]  # text passes through
    assert mapped["effort"].to_list() == ["1", "3", "4", "6", "7", "x"]  # 2.5 and 5.5 round up


def test_an_expression_that_fails_on_the_data_refuses_the_file_and_loads_nothing(
    tmp_path, warehouse
):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    strict = GOOD.replace("CAST(minutes AS DOUBLE) * 60", "CAST(Media AS INTEGER) * 60")
    result = load_with(warehouse, export, profile_file(tmp_path, strict))
    assert result.status == "refused"
    assert result.message.startswith(
        f"{tmp_path}/platform.yml:20: 'handle_seconds' failed on this file: "
    )
    assert "TEL" in result.message  # the value that could not be converted
    assert query(warehouse, "SELECT count(*) FROM raw_interactions") == [(0,)]


def test_an_export_in_another_encoding_than_the_profile_states_says_so(tmp_path, warehouse):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    result = load_with(warehouse, export, profile_file(tmp_path, GOOD.replace("latin-1", "utf-8")))
    assert result.status == "refused"
    assert result.message.startswith("not readable with profile platform: ")
    assert "state read.encoding" in result.message


def test_a_file_without_a_column_the_profile_reads_is_refused_naming_the_profile_line(
    tmp_path, warehouse
):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.replace("Media", "Medium").encode("latin-1"))
    result = load_with(warehouse, export, profile_file(tmp_path, GOOD))
    assert result.status == "refused"
    assert "profile platform reads column(s) 'media' (line 22)" in result.message


def test_profiles_are_found_by_path_by_name_in_the_user_folder_and_shipped(tmp_path, monkeypatch):
    path = profile_file(tmp_path, GOOD, "mine")
    monkeypatch.setenv("CXKPI_PROFILES", str(tmp_path))
    assert find(str(path)).name == "mine"
    assert find("mine").path == path
    assert find("technion_bank").path == profiles.SHIPPED / "technion_bank.yml"
    with pytest.raises(ProfileError, match="no profile named 'nope'.*known: .*mine"):
        find("nope")


def test_the_shipped_profiles_parse():
    assert {p.stem for p in profiles.SHIPPED.glob("*.yml")} == {"technion_bank", "ibm_hr_survey"}
    for path in profiles.SHIPPED.glob("*.yml"):
        parse(path)


def test_the_cli_checks_a_profile_against_a_file_and_previews_it(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    path = profile_file(tmp_path, GOOD)
    checked = invoke_cxkpi("profile", "check", str(path), str(export), "--rows", "2")
    # no warehouse, so no department is known: loading would quarantine every kept row
    assert checked.returncode == 1, checked.stderr
    assert "3 read, 0 loaded, 3 quarantined" in checked.stdout
    assert "feeds 'interactions'" in checked.stdout
    assert "4 data rows; set aside: abandoned before answer x1" in checked.stdout
    assert "first 2 mapped rows" in checked.stdout and "2026-01-03T09:15:00" in checked.stdout
    broken = profile_file(tmp_path, BROKEN["unknown-source"][0], "broken")
    refused = invoke_cxkpi("profile", "check", str(broken))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == f"error: {broken}:1: unknown source 'calls'" + (
        " (one of departments, interactions, case_tasks, workforce, nps_responses,"
        " engagement_responses, kpi_targets, initiatives)"
    )


def test_validate_with_a_profile_reports_and_writes_nothing(tmp_path):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    db = tmp_path / "w.duckdb"
    run = invoke_cxkpi(
        "--db", str(db), "validate", "--profile", str(profile_file(tmp_path, GOOD)), str(export)
    )
    assert run.returncode == 1
    # With no warehouse yet no department is known, so every row read fails that rule.
    assert "(3 read, 0 loaded, 3 quarantined, 1 set aside by the profile)" in run.stdout
    assert "set aside by the profile: abandoned before answer x1" in run.stdout
    assert not db.exists()


def test_the_same_export_reloads_only_when_its_profile_changed(tmp_path, warehouse):
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("latin-1"))
    profile = profile_file(tmp_path, GOOD)
    load_with(warehouse, export, profile)
    assert load_with(warehouse, export, profile).status == "unchanged"
    profile.write_text(GOOD.replace("Front: FL", "Front: BO"))
    again = load_with(warehouse, export, profile)
    assert "replaces the earlier load of this file" in again.message
    assert query(warehouse, "SELECT interaction_id, department_id FROM raw_interactions") == [
        ("T1", "BO")
    ]
