"""The DuckDB file: readers never block, writers work on a copy that replaces the file at the end.

DuckDB lets no other process open a file while one process writes to it. So every writing
command (load, build) copies the live file to `<db>.next`, writes there, checkpoints, closes
and atomically renames it over the live path. Readers open the live file read-only for each
request and see the old state until the rename, then the new one; never a mixture. A lock
file serialises writers. See docs/architecture.md.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from etl.contract import SOURCES, raw_ddl

DEFAULT_DB = Path("data/cxkpi.duckdb")
#: DuckDB's own memory cap for writing commands; beyond it DuckDB spills to disk.
WRITER_MEMORY_LIMIT = os.environ.get("CXKPI_MEMORY_LIMIT", "2GB")
#: New files use the storage format DuckDB 1.4 reads, so analysts' own clients (the duckdb
#: CLI on PyPI is still 1.5, DBeaver's driver often older) open the warehouse as well.
STORAGE_VERSION = "v1.4.0"

META_DDL = (
    """CREATE TABLE IF NOT EXISTS meta_load_runs (
        load_id BIGINT PRIMARY KEY, file VARCHAR NOT NULL, file_key VARCHAR NOT NULL,
        source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL, status VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, message VARCHAR,
        superseded_by BIGINT)""",
    """CREATE TABLE IF NOT EXISTS meta_quarantine (
        load_id BIGINT NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL,
        row_number BIGINT NOT NULL, "column" VARCHAR NOT NULL, rule VARCHAR NOT NULL,
        message VARCHAR NOT NULL, problems VARCHAR NOT NULL, raw_record JSON)""",
)


def resolve_db(db: str | os.PathLike | None) -> Path:
    """The database path: the argument, else $CXKPI_DB, else data/cxkpi.duckdb."""
    return Path(db or os.environ.get("CXKPI_DB") or DEFAULT_DB)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the meta tables and every raw table of the contract if they do not exist."""
    for ddl in META_DDL:
        con.execute(ddl)
    for source in SOURCES.values():
        con.execute(raw_ddl(source))


@contextmanager
def writing(db_path: Path, on_wait=None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection to a private copy of the database, published atomically on success."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with _writer_lock(db_path, on_wait):
        next_path = db_path.with_name(db_path.name + ".next")
        _remove(next_path)
        if db_path.exists():
            shutil.copyfile(db_path, next_path)
        con = duckdb.connect(
            str(next_path),
            config={
                "memory_limit": WRITER_MEMORY_LIMIT,
                "storage_compatibility_version": STORAGE_VERSION,
            },
        )
        try:
            ensure_schema(con)
            yield con
            con.execute("CHECKPOINT")
        except BaseException:
            con.close()
            _remove(next_path)
            raise
        con.close()
        _fsync(next_path)
        os.replace(next_path, db_path)
        _fsync(db_path.parent)


@contextmanager
def _writer_lock(db_path: Path, on_wait) -> Iterator[None]:
    lock_path = db_path.with_name(db_path.name + ".lock")
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            (on_wait or _say_waiting)(db_path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _say_waiting(db_path: Path) -> None:
    print(f"{db_path}: another load or build is writing; waiting for it to finish", file=sys.stderr)


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        candidate.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
