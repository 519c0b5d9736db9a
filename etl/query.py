"""The dashboard's read-only connection (ad-hoc SQL goes through etl/sandbox.py instead)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from etl.errors import CxkpiError

#: The name the published file is attached under in a read-only connection.
WAREHOUSE = "warehouse"


def connect_read_only(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file now at db_path, locked against files, URLs, extensions.

    DuckDB shares one database instance per path within a process, so a plain
    `duckdb.connect(path)` made after a load has published a new file returns the instance of
    the old file while any connection to it is still open. An in-memory instance of its own
    that ATTACHes the file is never shared: it reads the file the path names now.
    Cursors do not inherit `USE`; take them with `cursor()`.
    """
    if not db_path.exists():
        raise CxkpiError(f"{db_path}: no database yet; run `cxkpi demo` or `cxkpi load` first")
    con = duckdb.connect(
        ":memory:",
        config={"autoload_known_extensions": False, "autoinstall_known_extensions": False},
    )
    try:
        quoted = str(db_path).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS {WAREHOUSE} (READ_ONLY)")
        con.execute(f"USE {WAREHOUSE}")
        con.execute("SET GLOBAL enable_external_access = false")
        con.execute("SET GLOBAL lock_configuration = true")
    except duckdb.Error as error:
        con.close()
        problem = str(error).splitlines()[0]
        raise CxkpiError(f"{db_path}: cannot open for reading: {problem}") from None
    return con


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of a connection from connect_read_only, reading the warehouse by plain names."""
    cur = con.cursor()
    cur.execute(f"USE {WAREHOUSE}")
    return cur
