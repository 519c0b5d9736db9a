"""The DuckDB file: readers never block, writers work on a copy that replaces the file at the end.

DuckDB lets no other process open a file while one process writes to it. So every writing
command (load, build) copies the live file to `<db>.next`, writes there, checkpoints, closes
and atomically renames it over the live path. Readers open the live file read-only for each
request and see the old state until the rename, then the new one; never a mixture. A lock
file serialises writers.

A writer killed mid-way (SIGKILL, power cut) publishes nothing: the live file is untouched.
So that the attempt is not forgotten either, each writing command notes the files it loads
in `<db>.journal` before it starts and clears the note once published; the next writing
command finds a note left behind and records those files in load_runs as `interrupted`.
See docs/architecture.md and docs/reliability.md.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import duckdb

from etl import settings
from etl.contract.sources import SOURCES, raw_ddl
from etl.errors import CxkpiError
from etl.files import open_lock, open_new, refuse_link, replace

#: New files use the storage format DuckDB 1.4 reads, so analysts' own clients (the duckdb
#: CLI on PyPI is still 1.5, DBeaver's driver often older) open the warehouse as well.
STORAGE_VERSION = "v1.4.0"

#: The columns every load run has, in order (later columns have defaults).
LOAD_RUN_COLUMNS = (
    "load_id, file, file_key, source, sha256, rows_read, rows_loaded, rows_quarantined, status,"
    " started_at, finished_at, message, superseded_by"
)
#: One row per department (or 'ALL') and wave month a board snapshot published, with the
#: counts it published; the models read them in place of later counts (int_engagement_counts).
PUBLISHED_ENGAGEMENT_COLUMNS = (
    ("department_id", "VARCHAR"),
    ("month", "DATE"),
    *(
        (name, "BIGINT")
        for name in (
            "responses",
            "enps_answers",
            "enps_promoters",
            "enps_detractors",
            "engaged_answers",
            "engaged_favourable",
            "empowerment_responses",
            "empowerment_answers",
            "empowerment_favourable",
            "teamwork_answers",
            "teamwork_favourable",
        )
    ),
    ("snapshot_id", "VARCHAR"),
)
PUBLISHED_ENGAGEMENT_DDL = (
    "CREATE TABLE IF NOT EXISTS meta_published_engagement ("
    + ", ".join(f"{name} {kind} NOT NULL" for name, kind in PUBLISHED_ENGAGEMENT_COLUMNS)
    + ", PRIMARY KEY (department_id, month))"
)

META_DDL = (
    """CREATE TABLE IF NOT EXISTS meta_load_runs (
        load_id BIGINT PRIMARY KEY, file VARCHAR NOT NULL, file_key VARCHAR NOT NULL,
        source VARCHAR NOT NULL, sha256 VARCHAR NOT NULL, rows_read BIGINT NOT NULL,
        rows_loaded BIGINT NOT NULL, rows_quarantined BIGINT NOT NULL, status VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, message VARCHAR,
        superseded_by BIGINT)""",
    # Added with mapping profiles (docs/profiles.md); older warehouses gain them on the next write.
    "ALTER TABLE meta_load_runs ADD COLUMN IF NOT EXISTS rows_filtered BIGINT DEFAULT 0",
    "ALTER TABLE meta_load_runs ADD COLUMN IF NOT EXISTS filtered JSON",
    "ALTER TABLE meta_load_runs ADD COLUMN IF NOT EXISTS profile VARCHAR",
    """CREATE TABLE IF NOT EXISTS meta_quarantine (
        load_id BIGINT NOT NULL, source VARCHAR NOT NULL, file VARCHAR NOT NULL,
        row_number BIGINT NOT NULL, "column" VARCHAR NOT NULL, rule VARCHAR NOT NULL,
        message VARCHAR NOT NULL, problems VARCHAR NOT NULL, raw_record JSON)""",
    # The employee-survey counts each wave was first published with (etl/reporting/snapshot.py).
    PUBLISHED_ENGAGEMENT_DDL,
)


def resolve_db(db: str | os.PathLike | None) -> Path:
    """The database path: the argument, else $CXKPI_DB, else data/cxkpi.duckdb."""
    return Path(db) if db else settings.DB.get()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the meta tables and every raw table of the contract if they do not exist."""
    for ddl in META_DDL:
        con.execute(ddl)
    for source in SOURCES.values():
        con.execute(raw_ddl(source))
    # A warehouse made before a contract column was added gets it, empty (rows are inserted
    # by name, so where it sits does not matter).
    present = set(
        con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
            " AND starts_with(table_name, 'raw_')"
        ).fetchall()
    )
    for source in SOURCES.values():
        for c in source.columns:
            if (source.raw_table, c.name) not in present:
                con.execute(f'ALTER TABLE {source.raw_table} ADD COLUMN "{c.name}" {c.duckdb_type}')


@contextmanager
def writing(
    db_path: Path, on_wait=None, files: Sequence[dict] = ()
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A write connection to a private copy of the database, published atomically on success.

    files: what the command loads ({"file", "file_key", "source"} each), noted in the journal
    so that, if the process dies before publishing, the next writer records them as
    interrupted. A full disk or a folder that cannot be written is one clear error; the
    live database is untouched either way.
    """
    try:
        with _writing(db_path, on_wait, files) as con:
            yield con
    except (OSError, duckdb.Error) as error:
        reason = _cannot_write(error)
        if reason is None:
            raise
        kept = "the previous database is intact" if db_path.exists() else "nothing was written"
        raise CxkpiError(
            f"{db_path}: cannot write the database ({reason}); nothing was published and {kept}"
        ) from None


#: OS errors that mean the database's folder cannot take the new version.
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}
#: How DuckDB words the same errors in its messages.
_NO_ROOM_WORDS = {
    "No space left": errno.ENOSPC,
    "File too large": errno.EFBIG,
    "Read-only file system": errno.EROFS,
    "Permission denied": errno.EACCES,
}


def _cannot_write(error: Exception) -> str | None:
    """Why the database could not be written, or None for an error of another kind."""
    if isinstance(error, OSError):
        return error.strerror if error.errno in _NO_ROOM else None
    code = next((code for words, code in _NO_ROOM_WORDS.items() if words in str(error)), None)
    return os.strerror(code) if code else None


@contextmanager
def _writing(db_path: Path, on_wait, files: Sequence[dict]) -> Iterator[duckdb.DuckDBPyConnection]:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    refuse_link(db_path)  # replaced by rename on publish: a link would be swapped out
    with writer_lock(db_path, on_wait):
        journal = db_path.with_name(db_path.name + ".journal")
        left_behind = _read_journal(journal)
        _write_journal(journal, [*left_behind, _attempt(files)])
        next_path = db_path.with_name(db_path.name + ".next")
        try:
            _remove(next_path)
            if db_path.exists():
                with db_path.open("rb") as live, open_new(next_path) as copy:
                    shutil.copyfileobj(live, copy, 1 << 20)
            con = duckdb.connect(
                str(next_path),
                config={
                    # DuckDB's own cap for writing commands; beyond it DuckDB spills.
                    "memory_limit": settings.MEMORY_LIMIT.get(),
                    "storage_compatibility_version": STORAGE_VERSION,
                },
            )
        except BaseException:
            _write_journal(journal, left_behind)
            _remove(next_path)
            raise
        try:
            ensure_schema(con)
            _record_interrupted(con, left_behind)
            yield con
            con.execute("CHECKPOINT")
        except BaseException:
            con.close()
            _remove(next_path)
            # Not a crash: the command failed and said so. Earlier attempts stay noted.
            _write_journal(journal, left_behind)
            raise
        con.close()
        _fsync(next_path)
        os.replace(next_path, db_path)
        _fsync(db_path.parent)
        _write_journal(journal, [])


def _attempt(files: Sequence[dict]) -> dict:
    return {"pid": os.getpid(), "started_at": datetime.now().isoformat(), "files": list(files)}


def _read_journal(journal: Path) -> list[dict]:
    try:
        return json.loads(journal.read_text())
    except FileNotFoundError:
        return []
    except ValueError:
        # A note torn by the crash itself: the attempt cannot be named, only counted.
        return [{"pid": None, "started_at": None, "files": []}]


def _write_journal(journal: Path, attempts: list[dict]) -> None:
    if not attempts:
        journal.unlink(missing_ok=True)
        return
    replace(journal, json.dumps(attempts).encode())


def _record_interrupted(con: duckdb.DuckDBPyConnection, attempts: list[dict]) -> None:
    """A load_runs row for every file of a writing command that died before publishing."""
    for attempt in attempts:
        started = attempt["started_at"] or datetime.now().isoformat()
        for entry in attempt["files"]:
            # Killed between publishing and clearing the note: the load is there, not lost.
            con.execute(
                f"INSERT INTO meta_load_runs ({LOAD_RUN_COLUMNS})"
                " SELECT coalesce(max(load_id), 0) + 1, $file, $key,"
                " $source, '', 0, 0, 0, 'interrupted', $started::TIMESTAMP, NULL, $message,"
                " NULL FROM meta_load_runs HAVING NOT coalesce(bool_or(file = $file"
                " AND started_at >= $started::TIMESTAMP), false)",
                {
                    "file": entry["file"],
                    "key": entry["file_key"],
                    "source": entry["source"] or "unknown",
                    "started": started,
                    "message": f"the load that started at {started[:19].replace('T', ' ')}"
                    " stopped before it finished (process killed or machine stopped); nothing"
                    " from it was kept: load the file again",
                },
            )


@contextmanager
def writer_lock(db_path: Path, on_wait=None) -> Iterator[None]:
    """Hold the writer's lock of db_path (a file beside it); on_wait is told if it must wait."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    with os.fdopen(open_lock(lock_path), "r+b") as handle:
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
