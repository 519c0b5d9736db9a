"""Writing commands under stress: killed loads, two loads at once, a full disk, a read-only folder.

Each test runs the real `cxkpi` in its own process on a small seeded sample (20k interactions
a year) and checks the published database afterwards, byte for byte where nothing may change.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest

from etl.sample.bundled import generate
from tests.conftest import CXKPI, run_cxkpi

pytestmark = pytest.mark.reliability


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path: Path) -> int:
    """Data rows of a sample CSV (no quoted newlines in the sample)."""
    with path.open("rb") as handle:
        return sum(1 for _ in handle) - 1


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small") / "sample"
    generate(folder, "20k")
    return folder


@pytest.fixture
def with_departments(small_sample: Path, tmp_path: Path) -> Path:
    """A warehouse holding only the departments, published by a first load."""
    db = tmp_path / "cxkpi.duckdb"
    first = run_cxkpi("-q", "--db", str(db), "load", str(small_sample / "departments"))
    assert first.returncode == 0, first.stderr
    return db


def _runs(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT file, status, rows_read, rows_loaded, rows_quarantined FROM load_runs"
            " ORDER BY load_id"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize(
    "marker",
    [
        "interactions/2024-11.csv: typed",  # the first big file, mid-way
        "nps_responses/2026-10.csv: typed",  # late in the loading
        "int_interactions",  # during the build, after every file was loaded
    ],
)
def test_a_load_killed_at_any_point_publishes_nothing_and_a_rerun_completes_it(
    small_sample, with_departments, marker
):
    db = with_departments
    before = _sha(db)
    command = [CXKPI, "--db", str(db), "load", str(small_sample)]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    seen = []
    for line in process.stderr:
        seen.append(line)
        if marker in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "".join(seen[-5:])

    # Nothing of the killed command is visible: the published file is the one from before.
    assert _sha(db) == before
    assert [r[1] for r in _runs(db)] == ["loaded"]

    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    runs = _runs(db)
    files = sorted(small_sample.rglob("*.csv"))
    interrupted = [r for r in runs if r[1] == "interrupted"]
    assert sorted(r[0] for r in interrupted) == [str(f) for f in files]
    assert all(r[2:] == (0, 0, 0) for r in interrupted)
    loaded = {r[0]: r[2:] for r in runs if r[1] == "loaded"}
    assert loaded == {str(f): (_rows(f), _rows(f), 0) for f in files}
    con = duckdb.connect(str(db), read_only=True)
    stored = con.execute("SELECT count(*) FROM raw_interactions").fetchone()[0]
    message = con.execute(
        "SELECT message FROM load_runs WHERE status = 'interrupted' LIMIT 1"
    ).fetchall()[0][0]
    con.close()
    assert stored == sum(_rows(f) for f in (small_sample / "interactions").glob("*.csv"))
    assert "stopped before it finished" in message and "load the file again" in message
    assert not db.with_name(db.name + ".next").exists()
    assert not db.with_name(db.name + ".journal").exists()


def test_two_loads_at_once_take_turns_and_both_land(small_sample, with_departments):
    db = with_departments
    first = subprocess.Popen(
        [CXKPI, "--db", str(db), "load", str(small_sample / "interactions")],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    # Start the second once the first holds the writer's lock.
    for line in first.stderr:
        if "reading" in line:
            break
    second = subprocess.run(
        [CXKPI, "--db", str(db), "load", str(small_sample / "nps_responses")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    rest = first.communicate(timeout=600)
    assert first.returncode == 0, rest[1]
    assert second.returncode == 0, second.stderr
    assert "another load or build is writing; waiting for it to finish" in second.stderr
    runs = _runs(db)
    assert {r[1] for r in runs} == {"loaded"}
    files = sorted((small_sample / "interactions").glob("*.csv")) + sorted(
        (small_sample / "nps_responses").glob("*.csv")
    )
    assert {r[0]: r[2] for r in runs[1:]} == {str(f): _rows(f) for f in files}


def _limited(size: int):
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.parametrize("room", ["none for the copy", "none to finish"])
def test_a_full_disk_is_one_line_and_the_database_is_intact(small_sample, with_departments, room):
    db = with_departments
    before = _sha(db)
    # RLIMIT_FSIZE makes writes past the size fail as a full disk does (EFBIG).
    size = db.stat().st_size // 2 if room == "none for the copy" else db.stat().st_size + 100_000
    result = subprocess.run(
        [CXKPI, "-q", "--db", str(db), "load", str(small_sample / "interactions")],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_limited(size),
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"error: {db}: cannot write the database (File too large); nothing was published"
        " and the previous database is intact"
    )
    assert "Traceback" not in result.stderr
    assert _sha(db) == before
    assert not db.with_name(db.name + ".next").exists()
    # With room again, the same command loads everything.
    again = run_cxkpi("-q", "--db", str(db), "load", str(small_sample / "interactions"))
    assert again.returncode == 0, again.stderr


def test_a_read_only_folder_is_one_line_and_the_database_is_intact(with_departments):
    db = with_departments
    folder = db.parent
    before = _sha(db)
    if os.geteuid() == 0:
        # Root writes through permissions; the immutable attribute stops even root.
        locked = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if locked.returncode:
            pytest.skip(f"cannot make a folder read-only as root here: {locked.stderr.strip()}")
        unlock = ["chattr", "-i", str(folder)]
    else:
        folder.chmod(0o555)
        unlock = ["chmod", "755", str(folder)]
    try:
        result = run_cxkpi("-q", "--db", str(db), "build")
    finally:
        subprocess.run(unlock, check=True)
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {db}: cannot write the database (")
    assert "the previous database is intact" in result.stderr
    assert "Traceback" not in result.stderr
    assert _sha(db) == before


def test_a_stale_copy_from_a_killed_writer_does_not_block_the_next(with_departments):
    db = with_departments
    stale = db.with_name(db.name + ".next")
    stale.write_bytes(b"half a database")
    result = run_cxkpi("-q", "--db", str(db), "build")
    assert result.returncode == 0, result.stderr
    assert not stale.exists()
