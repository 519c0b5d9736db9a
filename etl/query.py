"""The dashboard's read-only connection (ad-hoc SQL goes through etl/sandbox.py instead)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.errors import CxkpiError


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection that cannot reach files, URLs or extensions, with settings locked."""
    if not db_path.exists():
        raise CxkpiError(f"{db_path}: no database yet; run `cxkpi demo` or `cxkpi load` first")
    con = duckdb.connect(
        str(db_path),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
        },
    )
    # A second connection to a file this process already has open shares its (locked) settings.
    if not con.execute("SELECT current_setting('lock_configuration')").fetchall()[0][0]:
        con.execute("SET lock_configuration = true")
    return con
