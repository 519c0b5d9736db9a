"""Shared fixtures: tiny inline exports and one sample warehouse per test session."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from etl.sample import generate

CXKPI = str(Path(sys.executable).with_name("cxkpi"))

DEPARTMENTS_CSV = """department_id,name,function,headcount
FL,Front Line,frontline,10
BO,Back Office,back_office,5
"""


def write(folder: Path, source: str, text: str, name: str = "2026-01.csv") -> Path:
    """Write an export file into folder/<source>/name and return its path."""
    path = folder / source / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def run_cxkpi(*args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed cxkpi command as a user would."""
    return subprocess.run([CXKPI, *args], capture_output=True, text=True, input=input, timeout=600)


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Put back the `__main__` module a test replaced.

    Streamlit's AppTest runs a page as `__main__` and leaves it there, so a later test in the
    same worker that spawns processes would have each child re-run that page's script.
    """
    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """An export folder holding the two-department reference file."""
    folder = tmp_path / "inbox"
    write(folder, "departments", DEPARTMENTS_CSV, "departments.csv")
    return folder


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The seeded sample exports at the default scale."""
    folder = tmp_path_factory.mktemp("sample")
    generate(folder)
    return folder


@pytest.fixture(scope="session")
def sample_db(sample_dir: Path, tmp_path_factory) -> Path:
    """A warehouse built from the sample by the real `cxkpi load` (load, validate, build)."""
    db = tmp_path_factory.mktemp("warehouse") / "cxkpi.duckdb"
    result = run_cxkpi("--quiet", "--db", str(db), "load", str(sample_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    return db


@pytest.fixture
def sample_con(sample_db: Path):
    """A read-only connection to the session's sample warehouse."""
    con = duckdb.connect(str(sample_db), read_only=True)
    yield con
    con.close()


@pytest.fixture
def sample_copy(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample warehouse a test may change."""
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_db, copy)
    return copy


@pytest.fixture(scope="session")
def quarantined_db(tmp_path_factory) -> Path:
    """A warehouse holding one quarantined interaction, sent with its customer id."""
    folder = tmp_path_factory.mktemp("inbox")
    write(folder, "departments", "department_id,name,function,headcount\nFL,Front,frontline,3\n")
    write(
        folder,
        "interactions",
        "interaction_id,started_at,department_id,handle_seconds,channel,customer_id\n"
        "A,2026-01-05T09:00:00,FL,300,phone,C1\nB,2026-01-05T10:00:00,FL,-5,phone,C-SECRET\n",
    )
    db = folder / "w.duckdb"
    result = run_cxkpi("--quiet", "--db", str(db), "load", str(folder))
    assert "1 quarantined" in result.stdout + result.stderr, result.stdout + result.stderr
    return db


#: Stragglers of November 2026 after the sample's last month: a month that has barely begun.
STRAGGLING_CONTACTS = 71
STRAGGLING_ANSWERS = 40


@pytest.fixture(scope="session")
def straggler_db(sample_db: Path, tmp_path_factory) -> Path:
    """The sample warehouse with a few contacts and detractor answers of November 2026 loaded."""
    folder = tmp_path_factory.mktemp("stragglers")
    contacts = "interaction_id,started_at,department_id,handle_seconds,channel,customer_id\n"
    contacts += "".join(
        f"LATE{i:04d},2026-11-0{1 + i % 3}T10:{i % 60:02d}:00,RET,300,phone,CLATE{i}\n"
        for i in range(STRAGGLING_CONTACTS)
    )
    write(folder, "interactions", contacts, "2026-11.csv")
    answers = "response_id,responded_at,department_id,score\n" + "".join(
        f"LATER{i:04d},2026-11-0{1 + i % 3}T12:00:00,RET,0\n" for i in range(STRAGGLING_ANSWERS)
    )
    write(folder, "nps_responses", answers, "2026-11.csv")
    db = folder / "cxkpi.duckdb"
    shutil.copyfile(sample_db, db)
    result = run_cxkpi("--quiet", "--db", str(db), "load", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    return db
