"""Check files against the contract without writing to the warehouse."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from etl.contract.profiles import Profile
from etl.contract.sources import DEPARTMENTS
from etl.errors import FileRefused
from etl.loading.dialect import Stated
from etl.loading.load import INCOMING, REJECTED, FileResult, department_ids, drop_staging, stage
from etl.loading.read import ROW, detect_source
from etl.warehouse.publish import ensure_schema


def known_departments(db_path: Path) -> frozenset[str]:
    """Department ids already in the warehouse (none when there is no database yet)."""
    if not db_path.exists():
        return frozenset()
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error:
        return frozenset()
    try:
        return department_ids(con)
    except duckdb.Error:
        return frozenset()
    finally:
        con.close()


@dataclass(frozen=True)
class Checked:
    """What loading one file would do: its result, its first problems, and per rule broken
    the number of rows with one example, most rows first."""

    result: FileResult
    problems: list[str] = field(default_factory=list)
    #: (column/rule xN, "row R: message" of its first row)
    rules: list[tuple[str, str]] = field(default_factory=list)


def check_files(
    files: list[tuple[Path, str | None]],
    db_path: Path,
    show: int,
    profile: Profile | None = None,
    stated: Stated | None = None,
) -> Iterator[Checked]:
    """Each file's result and its problems, as loading would find them in the file."""
    departments = known_departments(db_path)
    scratch = duckdb.connect()
    ensure_schema(scratch)
    for path, name in files:
        try:
            source = profile.source if profile else detect_source(path, name)
            with tempfile.TemporaryDirectory(prefix="cxkpi-check-") as folder:
                staged = stage(
                    scratch, path, source, departments, Path(folder), None, profile, stated
                )
                checked = _report(scratch, path, source, staged, show)
                if source is DEPARTMENTS:
                    ids = scratch.execute(f"SELECT department_id FROM {INCOMING}").fetchall()
                    departments = frozenset(r[0] for r in ids)
                drop_staging(scratch)
        except FileRefused as refused:
            yield Checked(FileResult(path, name, "refused", message=refused.reason))
            continue
        yield checked
    scratch.close()


def _report(con, path: Path, source, staged, show: int) -> Checked:
    bad = con.execute(f"SELECT count(*) FROM {REJECTED}").fetchone()[0]
    first = con.execute(
        f'SELECT {ROW}, "column", problems FROM {REJECTED} ORDER BY {ROW} LIMIT $n', {"n": show}
    ).fetchall()
    status = "invalid" if bad else "valid"
    message = "nothing loaded (validate only)"
    if staged.filtered:
        message += "; " + staged.set_aside()
    for notice in staged.notices:
        message += "; " + notice
    result = FileResult(
        path,
        source.name,
        status,
        staged.rows_read,
        0,
        bad,
        message=message,
        rows_filtered=staged.rows_filtered,
    )
    rules = con.execute(
        f'SELECT "column", rule, count(*) AS n, arg_min({ROW}, {ROW}),'
        f' arg_min(message, {ROW}) FROM {REJECTED} GROUP BY ALL ORDER BY n DESC, rule, "column"'
    ).fetchall()
    return Checked(
        result,
        [f"row {r}, column {c}: {p}" for r, c, p in first],
        [(f"{c}/{r} x{n:,}", f"row {row}: {m}") for c, r, n, row, m in rules],
    )
