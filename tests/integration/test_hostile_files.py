"""Hostile and broken exports through `cxkpi load`, as a user meets them.

Every case: exit status 1 when something is wrong (0 when the file is fine after all), one
clear line naming the file (and row, column and rule for a bad row), no traceback, good
rows kept, bad rows quarantined, and rows_read = rows_loaded + rows_quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest

from tests.conftest import run_cxkpi, write

pytestmark = pytest.mark.reliability

HEADER = "interaction_id,started_at,department_id,handle_seconds,channel,customer_id"
GOOD = "A,2026-01-05T09:00:00,FL,300,phone,C1\nB,2026-01-05T10:00:00,BO,200,chat,C2\n"
NPS = "response_id,responded_at,score,csat"


@dataclass
class Case:
    """One hostile file: where it goes, its bytes, and what the load must say and keep."""

    source: str
    content: bytes
    exit: int
    said: list[str]
    loaded: int = 0
    quarantined: list[tuple[int, str, str]] = field(default_factory=list)
    refused: bool = False
    name: str = "2026-01.csv"


def _interactions(*rows: str) -> bytes:
    return (HEADER + "\n" + GOOD + "".join(r + "\n" for r in rows)).encode()


CASES = {
    "score-out-of-range": Case(
        "nps_responses",
        f"{NPS}\nR1,2026-01-05T09:00:00,9,5\nR2,2026-01-05T09:00:00,11,4\n".encode(),
        1,
        ["row 2", "score", "range"],
        loaded=1,
        quarantined=[(2, "score", "range")],
    ),
    "missing-required-column": Case(
        "interactions",
        b"interaction_id,started_at,department_id\nA,2026-01-05T09:00:00,FL\n",
        1,
        ["refused", "missing required column(s) handle_seconds"],
        refused=True,
    ),
    "unparseable-timestamp": Case(
        "interactions",
        _interactions("X,05/01/2026 9am,FL,60,phone,C9"),
        1,
        ["row 3", "started_at", "type:timestamp", "05/01/2026 9am"],
        loaded=2,
        quarantined=[(3, "started_at", "type:timestamp")],
    ),
    "duplicate-id-in-file": Case(
        "interactions",
        _interactions("A,2026-01-06T09:00:00,FL,60,phone,C9"),
        1,
        ["interaction_id", "unique"],
        loaded=1,
        quarantined=[(1, "interaction_id", "unique"), (3, "interaction_id", "unique")],
    ),
    "unknown-department": Case(
        "interactions",
        _interactions("X,2026-01-05T09:00:00,ZZ,60,phone,C9"),
        1,
        ["row 3", "department_id", "known_department"],
        loaded=2,
        quarantined=[(3, "department_id", "known_department")],
    ),
    "negative-duration": Case(
        "interactions",
        _interactions("X,2026-01-05T09:00:00,FL,-60,phone,C9"),
        1,
        ["row 3", "handle_seconds", "range"],
        loaded=2,
        quarantined=[(3, "handle_seconds", "range")],
    ),
    "empty": Case("interactions", b"", 1, ["refused", "file is empty"], refused=True),
    "header-only": Case(
        "interactions", HEADER.encode() + b"\n", 1, ["refused", "no data rows"], refused=True
    ),
    "latin-1": Case(
        "interactions",
        (HEADER + "\nA,2026-01-05T09:00:00,FL,300,phone,Cl\xe9ment\n").encode("latin-1"),
        0,
        ["read as Windows-1252, since it is not UTF-8: byte 0xe9 in line 2"],
        loaded=1,
    ),
    "latin-1-after-64-kib": Case(
        "interactions",
        (
            HEADER
            + "\n"
            + "".join(f"I{i},2026-01-05T09:00:00,FL,300,phone,C{i}\n" for i in range(3000))
            + "Z,2026-01-05T09:00:00,FL,300,phone,Cl\xe9ment\n"
        ).encode("latin-1"),
        0,
        ["read as Windows-1252, since it is not UTF-8: byte 0xe9 in line 3002"],
        loaded=3001,
    ),
    "fits-no-encoding": Case(
        "interactions",
        (HEADER + "\nA,2026-01-05T09:00:00,FL,300,phone,Cl\xe9ment\n").encode("latin-1")
        + b"B,2026-01-05T10:00:00,FL,300,phone,C\x9d2\n",
        1,
        [
            "refused: not UTF-8: byte 0xe9 in line 2",
            "nor Windows-1252: byte 0x9d in line 3",
        ],
        refused=True,
    ),
    "utf-8-with-bom": Case("interactions", b"\xef\xbb\xbf" + _interactions(), 0, [], loaded=2),
    "semicolons": Case(
        "interactions",
        _interactions().replace(b",", b";"),
        0,
        ["read as ';'-separated: its header splits on ';' into the interactions columns"],
        loaded=2,
    ),
    "semicolons-but-not-the-columns": Case(
        "interactions",
        _interactions().replace(b",", b";").replace(b"handle_seconds", b"handle_time"),
        1,
        ["refused", "delimited by something other than a comma"],
        refused=True,
    ),
    "binary-named-csv": Case(
        "interactions",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(256)) * 4,
        1,
        ["refused", "binary content"],
        refused=True,
    ),
    "100-extra-columns": Case(
        "interactions",
        (
            HEADER
            + "".join(f",extra_{i}" for i in range(100))
            + "\n"
            + "".join(
                line + "".join(f",v{i}" for i in range(100)) + "\n" for line in GOOD.splitlines()
            )
        ).encode(),
        0,
        [],
        loaded=2,
    ),
    "name-says-interactions-columns-say-nps": Case(
        "interactions",
        f"{NPS}\nR1,2026-01-05T09:00:00,9,5\n".encode(),
        1,
        ["refused", "its columns look like source 'nps_responses'"],
        refused=True,
    ),
    "engagement-with-employee-ids": Case(
        "engagement_responses",
        b"response_id,wave,department_id,employee_id,email,q_engaged\n"
        b"E1,2026-01-01,FL,EMP-48213,ann.lee@example.com,4\n"
        b"E2,2026-01-01,FL,EMP-51377,bo.chan@example.com,9\n",
        1,
        ["row 2", "q_engaged", "range", "dropped (could identify a person): employee_id, email"],
        loaded=1,
        quarantined=[(2, "q_engaged", "range")],
    ),
}


def tables_text(db: Path) -> str:
    """Every value of every table in the warehouse, as text."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        return "\n".join(str(con.execute(f'FROM "{n}"').fetchall()) for n in names)
    finally:
        con.close()


@pytest.mark.parametrize("name", CASES)
def test_a_hostile_file_gets_one_clear_line_and_nothing_is_lost(tmp_path, inbox, name):
    case = CASES[name]
    path = inbox / case.source / case.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.content)
    db = tmp_path / "w.duckdb"
    run = run_cxkpi("-q", "--db", str(db), "load", "--no-build", str(inbox))
    said = run.stdout + run.stderr
    assert run.returncode == case.exit, said
    assert "Traceback" not in said
    line = next(s for s in said.splitlines() if str(path) in s)
    for words in case.said:
        assert words in said, (words, said)
    assert ("refused" in line) == case.refused

    con = duckdb.connect(str(db), read_only=True)
    try:
        (status, read, loaded, quarantined) = con.execute(
            "SELECT status, rows_read, rows_loaded, rows_quarantined FROM meta_load_runs"
            " WHERE file_key = $key",
            {"key": f"{case.source}/{case.name}"},
        ).fetchall()[0]
        problems = con.execute(
            'SELECT row_number, "column", rule FROM meta_quarantine ORDER BY 1, 2'
        ).fetchall()
        stored = con.execute(f"SELECT count(*) FROM raw_{case.source}").fetchall()[0][0]
    finally:
        con.close()
    assert read == loaded + quarantined
    assert (loaded, stored) == (case.loaded, case.loaded)
    assert problems == case.quarantined
    assert status == ("refused" if case.refused else "quarantined" if problems else "loaded")
    text = tables_text(db)
    assert "EMP-48213" not in text and "ann.lee@example.com" not in text


def test_duplicate_ids_across_two_files_keep_the_first_and_quarantine_the_second(tmp_path, inbox):
    write(inbox, "interactions", HEADER + "\n" + GOOD, "2026-01.csv")
    write(inbox, "interactions", HEADER + "\nB,2026-02-01T09:00:00,FL,60,phone,C2\n", "2026-02.csv")
    db = tmp_path / "w.duckdb"
    run = run_cxkpi("-q", "--db", str(db), "load", "--no-build", str(inbox))
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert "interaction_id already loaded from interactions/2026-01.csv" in run.stdout + run.stderr


def test_a_one_gigabyte_line_is_refused_naming_it_without_running_out_of_memory(tmp_path, inbox):
    path = inbox / "interactions" / "2026-01.csv"
    path.parent.mkdir()
    with path.open("w") as handle:
        handle.write(HEADER + "\nA,2026-01-05T09:00:00,FL,300,phone,C1\n")
        handle.write("B,2026-01-05T09:00:00,FL,300,phone,")
        chunk = "x" * (1 << 24)
        for _ in range(64):  # 1 GiB in one field of one line
            handle.write(chunk)
        handle.write("\nC,2026-01-05T09:00:00,FL,300,phone,C3\n")
    db = tmp_path / "w.duckdb"
    try:
        run = run_cxkpi("-q", "--db", str(db), "load", "--no-build", str(inbox))
    finally:
        path.unlink()
    said = run.stdout + run.stderr
    assert run.returncode == 1 and "Traceback" not in said
    assert f"{path}: refused: line 3 (row 2) is longer than 1 MiB" in said
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM raw_interactions").fetchall() == [(0,)]
    finally:
        con.close()
