"""Shared fixtures: tiny inline exports and one sample warehouse per test run.

The sample warehouse and the other read-only warehouses are built once per run, not once per
xdist worker: the first worker that needs one builds it under a file lock in the run's shared
temporary folder, and the others wait for it and open the same file read-only. A test that
changes a warehouse works on a copy (`sample_copy`, or a module fixture copying the file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from etl.sample.bundled import generate

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


@dataclass
class Invoked:
    """What `invoke_cxkpi` saw: the same three fields as a finished subprocess."""

    returncode: int
    stdout: str
    stderr: str


def invoke_cxkpi(*args: str, input: str | None = None) -> Invoked:
    """Run cxkpi's entry point in this process, as `run_cxkpi` would run the command.

    The same `main` the installed command calls (its one-line errors and exit codes), without
    a new interpreter: for tests of a command's output and exit code. Tests about the process
    itself (signals, kills, the real entry point, `cxkpi serve`) use `run_cxkpi`.
    """
    from click.testing import CliRunner

    from etl.cli import main

    code = 0
    with CliRunner().isolation(input=input) as (stdout, stderr, _):
        try:
            main(list(args))
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    return Invoked(code, stdout.getvalue().decode(), stderr.getvalue().decode())


def pytest_collection_modifyitems(config, items):
    """Every test that drives Chromium is a `browser` test, wherever it lives; and the files
    that need no shared warehouse run first, each group largest file first.

    While the first files run, the sample warehouse is built (pytest_collection_finish), so a
    worker seldom waits for it; largest first keeps the two workers' last files short.
    """
    for item in items:
        if "browser" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
    files: dict[str, list] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)

    def order(name: str) -> tuple[bool, int]:
        needs = any("sample_db" in getattr(i, "fixturenames", ()) for i in files[name])
        return needs, -len(files[name])

    items[:] = [item for name in sorted(files, key=order) for item in files[name]]


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


def shared(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder `name`, filled by build(folder) once per run for every xdist worker.

    Its files are for reading only: every worker of the run gets the same folder. A build that
    failed leaves no mark, so the next worker that asks tries again from an empty folder.
    """
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    root = base / "shared"
    root.mkdir(exist_ok=True)
    folder, built = root / name, root / f"{name}.built"
    with FileLock(root / f"{name}.lock"):
        if not built.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            built.touch()
    return folder


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """The seeded sample exports at the default scale (shared by the run's workers)."""
    return shared(tmp_path_factory, "sample", generate)


@pytest.fixture(scope="session")
def sample_db(sample_dir: Path, tmp_path_factory) -> Path:
    """A warehouse built from the sample by the real `cxkpi load` (load, validate, build).

    Shared by the run's workers: open it read-only, or copy it (`sample_copy`) to change it.
    """
    build = partial(_warehouse, sample_dir=sample_dir)
    return shared(tmp_path_factory, "warehouse", build) / "cxkpi.duckdb"


def _warehouse(folder: Path, sample_dir: Path) -> None:
    result = run_cxkpi("--quiet", "--db", str(folder / "cxkpi.duckdb"), "load", str(sample_dir))
    assert result.returncode == 0, result.stdout + result.stderr


def pytest_collection_finish(session):
    """Start building the sample warehouse as soon as the tests are known, if any needs it.

    The first worker builds it in a thread (the build is a `cxkpi load` process) while both
    workers run the tests that need no warehouse, which the order below puts first; a test
    that needs it waits on the same lock as it would have. Saves the build's time once a run.
    """
    if os.environ.get("PYTEST_XDIST_WORKER", "gw0") != "gw0":
        return
    if not any("sample_db" in getattr(item, "fixturenames", ()) for item in session.items):
        return
    factory = session.config._tmp_path_factory
    factory.getbasetemp()  # made here, not raced for in the thread

    def build() -> None:
        try:
            sample = shared(factory, "sample", generate)
            shared(factory, "warehouse", partial(_warehouse, sample_dir=sample))
        except Exception:  # noqa: BLE001 (the test that needs it builds it again and says why)
            pass

    threading.Thread(target=build, name="sample-warehouse", daemon=True).start()


def pytest_configure(config):
    """Hand xdist the test files in the order below, not largest first."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


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
    """A warehouse holding one quarantined interaction, sent with its customer id (shared)."""
    return shared(tmp_path_factory, "quarantined", _quarantined) / "w.duckdb"


def _quarantined(folder: Path) -> None:
    write(folder, "departments", "department_id,name,function,headcount\nFL,Front,frontline,3\n")
    write(
        folder,
        "interactions",
        "interaction_id,started_at,department_id,handle_seconds,channel,customer_id\n"
        "A,2026-01-05T09:00:00,FL,300,phone,C1\nB,2026-01-05T10:00:00,FL,-5,phone,C-SECRET\n",
    )
    result = invoke_cxkpi("--quiet", "--db", str(folder / "w.duckdb"), "load", str(folder))
    assert "1 quarantined" in result.stdout + result.stderr, result.stdout + result.stderr


#: Stragglers of November 2026 after the sample's last month: a month that has barely begun.
STRAGGLING_CONTACTS = 71
STRAGGLING_ANSWERS = 40


@pytest.fixture(scope="session")
def straggler_db(sample_db: Path, tmp_path_factory) -> Path:
    """The sample warehouse with a few contacts and detractor answers of November 2026 loaded.

    Shared by the run's workers, like `sample_db`.
    """
    build = partial(_stragglers, sample_db=sample_db)
    return shared(tmp_path_factory, "stragglers", build) / "cxkpi.duckdb"


def _stragglers(folder: Path, sample_db: Path) -> None:
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
    result = invoke_cxkpi("--quiet", "--db", str(db), "load", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
