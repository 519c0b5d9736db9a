"""The dashboard's read-only connection (ad-hoc SQL goes through sandbox.py instead)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import duckdb

from etl.errors import CxkpiError
from etl.sqltext import literal
from etl.warehouse.access import HIDDEN, HIDDEN_PREFIXES, Visibility

#: The name the published file is attached under in a read-only connection.
WAREHOUSE = "warehouse"
#: The file's own name in a connection that sees it through views (not for queries).
_FILE = "cxkpi_file"


def connect_read_only(
    db_path: Path, visibility: Visibility | None = None
) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the file now at db_path, locked against files, URLs, extensions.

    DuckDB shares one database instance per path within a process, so a plain
    `duckdb.connect(path)` made after a load has published a new file returns the instance of
    the old file while any connection to it is still open. An in-memory instance of its own
    that ATTACHes the file is never shared: it reads the file the path names now.
    Cursors do not inherit `USE`; take them with `cursor()`.

    With a visibility (the dashboard always passes one), the file is attached under a
    private name and `warehouse` is an in-memory catalog of views over it, each showing
    what the reader may see (etl/warehouse/access.py): raw tables and other departments' rows are
    not there to be queried.
    """
    if not db_path.exists():
        raise CxkpiError(f"{db_path}: no database yet; run `cxkpi demo` or `cxkpi load` first")
    con = duckdb.connect(
        ":memory:",
        config={"autoload_known_extensions": False, "autoinstall_known_extensions": False},
    )
    try:
        if visibility is None:
            con.execute(f"ATTACH {literal(str(db_path))} AS {WAREHOUSE} (READ_ONLY)")
        else:
            con.execute(f"ATTACH {literal(str(db_path))} AS {_FILE} (READ_ONLY)")
            con.execute(f"ATTACH ':memory:' AS {WAREHOUSE}")
            expose(con, _FILE, WAREHOUSE, visibility)
        con.execute(f"USE {WAREHOUSE}")
        con.execute("SET GLOBAL enable_external_access = false")
        con.execute("SET GLOBAL lock_configuration = true")
    except duckdb.Error as error:
        con.close()
        problem = str(error).splitlines()[0]
        raise CxkpiError(f"{db_path}: cannot open for reading: {problem}") from None
    return con


def expose(
    con: duckdb.DuckDBPyConnection,
    source: str,
    target: str,
    visibility: Visibility,
    names: Collection[str] | None = None,
) -> tuple[str, ...]:
    """Create in catalog target a view of each relation of catalog source the reader may see
    (only those in names, if given); returns the names exposed."""
    columns: dict[str, list[str]] = {}
    for name, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_catalog = ? AND table_schema = 'main' ORDER BY table_name, ordinal_position",
        [source],
    ).fetchall():
        columns.setdefault(name, []).append(column)
    exposed = []
    lone = _lone_outsider(con, source, visibility) if "metric_month" in columns else False
    for name, cols in columns.items():
        if names is not None and name not in names:
            continue
        if name in HIDDEN or name.startswith(HIDDEN_PREFIXES):
            continue
        select = visibility.expose(name, cols, lone)
        if select is None:
            continue
        body = select.format(source=f'{source}.main."{name}"', file=f"{source}.main")
        con.execute(f'CREATE VIEW {target}.main."{name}" AS {body}')
        exposed.append(name)
    return tuple(exposed)


def _lone_outsider(con: duckdb.DuckDBPyConnection, source: str, visibility: Visibility) -> bool:
    """Whether exactly one department with data lies outside the reader's scope: then every
    organisation figure minus the reader's own would be that department's."""
    if visibility.departments is None:
        return False
    scope = ", ".join(literal(d) for d in visibility.departments)
    (outside,) = con.execute(
        f"SELECT count(DISTINCT department_id) FROM {source}.main.metric_month"
        f" WHERE n > 0 AND department_id <> 'ALL' AND department_id NOT IN ({scope})"
    ).fetchone()
    return outside == 1


def cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A cursor of a connection from connect_read_only, reading the warehouse by plain names."""
    cur = con.cursor()
    cur.execute(f"USE {WAREHOUSE}")
    return cur
