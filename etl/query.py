"""Read-only ad-hoc SQL for analysts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

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


def run_query(db_path: Path, query: str, max_rows: int) -> tuple[pl.DataFrame, bool]:
    """The first max_rows rows of a query, and whether there were more."""
    con = connect_read_only(db_path)
    try:
        result = con.sql(query)
        if result is None:
            raise CxkpiError("the statement returned no rows (only read-only queries run here)")
        frame = result.limit(max_rows + 1).pl()
    except duckdb.Error as error:
        raise CxkpiError(f"query failed: {str(error).splitlines()[0]}") from None
    finally:
        con.close()
    return frame.head(max_rows), frame.height > max_rows
