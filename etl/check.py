"""Check files against the contract without writing anything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb

from etl.contract import DEPARTMENTS
from etl.errors import FileRefused
from etl.load import FileResult, department_ids, prepare
from etl.read import ROW, detect_source


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


def check_files(
    files: list[tuple[Path, str | None]], db_path: Path
) -> Iterator[tuple[FileResult, list[str]]]:
    """Each file's result and its problems, as loading would find them."""
    departments = known_departments(db_path)
    for path, name in files:
        try:
            source = detect_source(path, name)
            prepared = prepare(path, source, departments)
        except FileRefused as refused:
            yield FileResult(path, name, "refused", message=refused.reason), []
            continue
        if source is DEPARTMENTS:
            departments = frozenset(prepared.good["department_id"].to_list())
        bad = prepared.quarantine
        status = "invalid" if bad.height else "valid"
        result = FileResult(
            path,
            source.name,
            status,
            prepared.rows_read,
            0,
            bad.height,
            message="nothing loaded (validate only)",
        )
        yield (
            result,
            [
                f"row {r[ROW]}, column {r['column']}: {r['problems']}"
                for r in bad.iter_rows(named=True)
            ],
        )
