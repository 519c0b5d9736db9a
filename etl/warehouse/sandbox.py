"""The guard for ad-hoc SQL: one module behind `cxkpi sql` and the dashboard's SQL workbench.

Three layers, each sufficient for the attacks it covers (tests/integration/test_sandbox.py,
tests/security/test_guard_*.py):

1. DuckDB's own controls. Queries run in a separate in-memory DuckDB instance that ATTACHes the
   warehouse READ_ONLY under a private name and exposes the analyst views as views in its own
   catalog; raw tables are not in its search path. External access (files, URLs, `FROM 'x.csv'`),
   extension loading and Python replacement scans are off; time, memory, temp-space and thread
   limits are set globally (a cursor does not inherit session settings) and the configuration is
   locked, so a query cannot loosen any of it.
2. A check of the parsed query before it runs: exactly one SELECT statement (SUMMARIZE, DESCRIBE
   and SHOW included), every table it names is an analyst view or one of its own CTEs, and it
   calls no table function beyond a short list. This refuses what DuckDB would allow: USE, DETACH
   and `warehouse.raw_*` (not settings), and query()/query_table() (which name tables in strings).
   Names resolve by scope as DuckDB resolves them, and functions that read settings or the
   catalog are refused.
3. A worker process per query (worker.py), killed at the time limit and capped in memory,
   because DuckDB checks its own limits only between operators.

Individual engagement answers are not analyst views: employees are seen only through views that
suppress groups under 5 responses (docs/security.md#employee-anonymity).
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import duckdb
import pyarrow as pa

from etl import cells, settings
from etl.errors import CxkpiError, first_line
from etl.warehouse.access import Visibility
from etl.warehouse.models import SQL_DIR, Model, discover
from etl.warehouse.read_only import expose
from etl.warehouse.worker import Failed, Pool, Stopped, Worker

T = TypeVar("T")

if TYPE_CHECKING:  # the worker process never needs Polars: it sends Arrow
    import polars as pl

#: The warehouse's name inside the sandbox instance; queries may not name it.
_WAREHOUSE = "cxkpi_warehouse"
#: Table functions a query may call: they generate rows and read nothing.
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
#: Scalar functions that answer from the server's settings or catalog, not from the data.
SETTING_READERS = frozenset(
    {
        "current_setting",
        "getvariable",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_schemas",
        "in_search_path",
    }
)
#: The contract views (docs/contract.md#output-views), listed first in the schema browser.
CONTRACT_VIEWS = (
    "department_month",
    "kpi_conflicts",
    "department_value",
    "ex_cx_linkage",
    "initiative_effects",
    "nps_drivers",
    "load_runs",
    "quarantine",
)


#: The longest query the guard checks: parsing runs in the caller, before the worker's limits.
MAX_QUERY_CHARS = 100_000


class Refused(CxkpiError):
    """A query the sandbox will not run, with one sentence saying what is not allowed.

    Control characters in the sentence (DuckDB quotes values it could not convert) are
    written out, so the sentence is safe on a terminal; stopped names the limit that stopped
    the query, if one did; detail is DuckDB's own error text, whole, where DuckDB raised it
    (the workbench shows it under a plain sentence: etl/warehouse/sql_errors.py).
    """

    def __init__(self, message: str, stopped: str | None = None, detail: str = ""):
        super().__init__(cells.escape(message))
        self.stopped = stopped
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """What one ad-hoc query may use. Defaults can be changed with CXKPI_SQL_* variables."""

    timeout_seconds: float = settings.SQL_TIMEOUT.default_value
    max_rows: int = settings.SQL_MAX_ROWS.default_value
    download_rows: int = settings.SQL_DOWNLOAD_ROWS.default_value
    memory_limit: str = settings.SQL_MEMORY.default_value
    temp_limit: str = "1GB"
    threads: int = max(1, (os.cpu_count() or 2) - 1)

    @classmethod
    def from_env(cls, **overrides: object) -> Limits:
        """Limits from CXKPI_SQL_TIMEOUT, _MAX_ROWS, _DOWNLOAD_ROWS, _MEMORY, then overrides."""
        values: dict[str, object] = {
            "timeout_seconds": settings.SQL_TIMEOUT.get(),
            "max_rows": settings.SQL_MAX_ROWS.get(),
            "download_rows": settings.SQL_DOWNLOAD_ROWS.get(),
            "memory_limit": settings.SQL_MEMORY.get(),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        limits = cls(**values)  # type: ignore[arg-type]
        if limits.timeout_seconds <= 0 or limits.max_rows < 1 or limits.download_rows < 1:
            raise CxkpiError("the SQL time limit and row caps must be positive")
        return limits


#: The schema browser's groups, in the order it lists them: the output views (CONTRACT_VIEWS),
#: the marts and analyses the pages read, then the building blocks and frozen copies.
OUTPUT, SUPPORTING, INTERNAL = "output", "supporting", "internal"
GROUPS = (OUTPUT, SUPPORTING, INTERNAL)
#: The longest one-line description the schema browser shows beside a view's name.
SUMMARY_CHARS = 90


@dataclass(frozen=True)
class View:
    """An analyst view as the schema browser shows it, with its group (GROUPS)."""

    name: str
    grain: str
    description: str
    columns: tuple[tuple[str, str], ...]
    group: str = SUPPORTING

    @property
    def summary(self) -> str:
        """The description's first sentence, cut to SUMMARY_CHARS at a word (else the grain)."""
        text = self.description or self.grain
        first = re.split(r"(?<=[a-z0-9)'`%])[.!?](?:\s+|$)", text, maxsplit=1)[0].strip()
        if len(first) > SUMMARY_CHARS:
            first = first[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
        return first


@dataclass(frozen=True)
class Result:
    """The first rows of a query's result, whether there were more, and how long it took."""

    frame: pl.DataFrame
    truncated: bool
    seconds: float


@functools.cache
def analyst_views() -> tuple[View, ...]:
    """Every documented view an analyst may query, contract views first."""
    from etl.warehouse.catalog import columns, description

    models = discover()
    shown = [m for m in models.values() if m.spec.get("analyst", True)]
    order = {name: i for i, name in enumerate(CONTRACT_VIEWS)}
    shown.sort(
        key=lambda m: (
            GROUPS.index(_group(m)),
            order.get(m.name, len(order)),
            _layer_rank(m),
            m.name,
        )
    )
    return tuple(
        View(
            m.name,
            m.spec.get("grain", ""),
            m.spec.get("description", ""),
            tuple((c, description(m, c, models) or "") for c in columns(m, models)),
            _group(m),
        )
        for m in shown
    )


def _group(model: Model) -> str:
    """Output views first; staging, intermediate and frozen snapshot_ copies last."""
    if model.name in CONTRACT_VIEWS:
        return OUTPUT
    if model.layer in ("staging", "intermediate") or model.name.startswith("snapshot_"):
        return INTERNAL
    return SUPPORTING


@dataclass(frozen=True)
class Example:
    """A worked query from sql/examples: a title line, a description, then the SQL."""

    name: str
    title: str
    description: str
    sql: str


@functools.cache
def examples(folder: Path = SQL_DIR / "examples") -> tuple[Example, ...]:
    """The example queries shipped in sql/examples, in file order."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        text = path.read_text()
        comments = []
        for line in text.splitlines():
            if not line.startswith("--"):
                break
            comments.append(line.removeprefix("--").strip())
        found.append(Example(path.stem, comments[0], " ".join(comments[1:]), text.strip()))
    return tuple(found)


@functools.cache
def catalog_readers() -> frozenset[str]:
    """SETTING_READERS and every built-in macro that reads a table or calls one of them.

    pg_get_viewdef() is a macro over duckdb_views(): allowing it by name would read the SQL of
    every view, a scoped reader's filter included, past the table-function check.
    """
    with duckdb.connect(":memory:") as con:
        macros = con.execute(
            "SELECT DISTINCT lower(function_name), lower(coalesce(macro_definition, ''))"
            " FROM duckdb_functions() WHERE function_type = 'macro'"
        ).fetchall()
    readers = set(SETTING_READERS)
    while more := {
        name
        for name, body in macros
        if name not in readers
        and (
            re.search(r"\bselect\b", body)
            or any(re.search(rf"\b{re.escape(r)}\s*\(", body) for r in readers)
        )
    }:
        readers |= more
    return frozenset(readers)


def _layer_rank(model: Model) -> int:
    # Intermediate models after the marts, beside the snapshots, as when they sat in marts/.
    ranks = {"analyses": 0, "marts": 1, "intermediate": 2, "snapshots": 2, "staging": 3}
    return ranks.get(model.layer, 4)


class Sandbox:
    """The guard over one warehouse file; safe to share between threads.

    Its own locked DuckDB instance checks queries and lists the views; each query then runs
    in a worker process (worker.py) that is killed at the time limit and cannot map more
    than the memory limit; spare workers are started ahead for a sandbox shared between
    sessions. The worker itself makes one with names (the views to expose, as its caller
    found them), which runs queries in its own process.
    """

    def __init__(
        self,
        db_path: Path,
        limits: Limits | None = None,
        visibility: Visibility | None = None,
        names: Collection[str] | None = None,
        spare: int = 0,
    ):
        if not db_path.exists():
            raise CxkpiError(f"{db_path}: no database yet; run `cxkpi demo` or `cxkpi load` first")
        self.limits = limits or Limits.from_env()
        memory_bytes(self.limits.memory_limit)
        visibility = visibility or Visibility()
        self._pool = Pool(spare) if names is None else None
        self._temp = tempfile.TemporaryDirectory(prefix="cxkpi-sql-")
        self._con = duckdb.connect(
            ":memory:",
            config={
                "autoload_known_extensions": False,
                "autoinstall_known_extensions": False,
                "python_enable_replacements": False,
                "temp_directory": self._temp.name,
            },
        )
        try:
            self.views = self._expose(db_path, visibility, names)
            self._allowed = frozenset(name.lower() for name in self.views)
            self._readers = catalog_readers()
            limits = self.limits
            for setting in (
                f"max_temp_directory_size = '{limits.temp_limit}'",
                f"memory_limit = '{limits.memory_limit}'",
                f"threads = {int(limits.threads)}",
                f"max_execution_time = {int(limits.timeout_seconds * 1000)}",
                "enable_external_access = false",
                "lock_configuration = true",
            ):
                self._con.execute(f"SET GLOBAL {setting}")
            if self._pool:
                self._pool.configure(self._setup(db_path, visibility))
        except duckdb.Error as error:
            self.close()
            raise CxkpiError(f"{db_path}: cannot open for queries: {first_line(error)}") from None

    def _setup(self, db_path: Path, visibility: Visibility) -> dict:
        """What a worker needs to open the same views for the same reader (JSON, not pickle)."""
        departments = visibility.departments
        return {
            "db": str(db_path),
            "views": list(self.views),
            "limits": asdict(self.limits),
            "visibility": [
                None if departments is None else list(departments),
                visibility.raw_records,
            ],
        }

    def _expose(
        self, db_path: Path, visibility: Visibility, names: Collection[str] | None
    ) -> tuple[str, ...]:
        """The analyst views, each showing what this reader may see (etl/warehouse/access.py)."""
        self._con.execute(f"ATTACH '{_quote(str(db_path))}' AS {_WAREHOUSE} (READ_ONLY)")
        if names is not None:
            return expose(self._con, _WAREHOUSE, "memory", visibility, names=set(names))
        order = [v.name for v in analyst_views()]
        exposed = expose(self._con, _WAREHOUSE, "memory", visibility, names=set(order))
        return tuple(sorted(exposed, key=order.index))

    def close(self) -> None:
        """Release the instance, its workers and its temporary directory."""
        if self._pool:
            self._pool.close()
        self._con.close()
        self._temp.cleanup()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def check(self, query: str) -> None:
        """Refuse, with one sentence, anything but one SELECT over the analyst views."""
        if not query.strip():
            raise Refused("the query is empty")
        if len(query) > MAX_QUERY_CHARS:
            # Parsing and checking run before the worker's limits apply: bound them here.
            raise Refused(
                f"the query is {len(query):,} characters long; the limit is {MAX_QUERY_CHARS:,}"
                " (put long lists of values in a view, or filter by a condition)"
            )
        try:
            self._check(query)
        except RecursionError:
            raise Refused(
                "the query nests too deeply to check; write it with fewer nested parts"
            ) from None

    def _check(self, query: str) -> None:
        cursor = self._con.cursor()
        try:
            statements = cursor.extract_statements(query)
        except duckdb.Error as error:
            raise Refused(
                f"the query is not valid SQL: {first_line(error)}", detail=_detail(error)
            ) from None
        if len(statements) != 1:
            raise Refused(
                f"run one statement at a time (this has {len(statements)}); "
                "only a single SELECT is allowed"
            )
        kind = statements[0].type.name
        if kind == "MULTI" and "PIVOT" in query.upper():
            raise Refused(
                "list the PIVOT's values (PIVOT ... ON column IN (...)): without them DuckDB "
                "runs it as several statements, which is not allowed here"
            )
        if kind != "SELECT":
            raise Refused(
                f"{_statement_name(kind, query)} are not allowed: "
                "only read-only SELECT queries run here"
            )
        tree = json.loads(cursor.execute("SELECT json_serialize_sql(?)", [query]).fetchall()[0][0])
        if tree.get("error"):
            raise Refused(
                "only plain SELECT queries are allowed here: " + tree.get("error_message", "")
            )
        self._walk(tree, frozenset())

    def _walk(self, node: object, ctes: frozenset[str]) -> None:
        """Check every name in node as DuckDB resolves it, with ctes the CTE names in scope.

        A CTE is seen by the query it belongs to, its nested queries and the CTEs after it; not
        by its own body (unless recursive, and then only in the recursive part), not by the
        CTEs before it, and not outside its WITH. Anywhere else the name is DuckDB's own.
        """
        if isinstance(node, list):
            for item in node:
                self._walk(item, ctes)
            return
        if not isinstance(node, dict):
            return
        for entry in (node.get("cte_map") or {}).get("map", []):
            self._walk(entry["value"], ctes)
            ctes = ctes | {entry["key"].lower()}
        self._check_node(node, ctes)
        for key, value in node.items():
            if key == "right" and node.get("type") == "RECURSIVE_CTE_NODE":
                self._walk(value, ctes | {node["cte_name"].lower()})
            elif key != "cte_map":
                self._walk(value, ctes)

    def _check_node(self, node: dict, ctes: frozenset[str]) -> None:
        kind = node.get("type")
        if kind == "BASE_TABLE":
            self._check_table(node, ctes)
        elif kind == "SHOW_REF":
            self._check_show(node)
        elif kind == "TABLE_FUNCTION":
            name = node.get("function", {}).get("function_name", "?")
            if name.lower() not in TABLE_FUNCTIONS:
                raise Refused(
                    f"the table function {name}() is not allowed: query the analyst views "
                    f"by name (allowed functions: {', '.join(sorted(TABLE_FUNCTIONS))})"
                )
        elif node.get("class") in ("FUNCTION", "WINDOW") and "function_name" in node:
            name = str(node["function_name"])
            if name.lower() in self._readers:
                raise Refused(
                    f"the function {name}() is not allowed: it reads the server's settings or "
                    "catalog, not the data"
                )

    def _check_show(self, node: dict) -> None:
        """DESCRIBE and SUMMARIZE of a query, SHOW of a view and SHOW TABLES; no other SHOW."""
        show, name = node.get("show_type"), node.get("table_name", "")
        if show in ("DESCRIBE", "SUMMARY") and node.get("query"):
            return
        if show == "SHOW" and name:
            self._check_table(node, frozenset())
            return
        if show == "SHOW_SPECIAL" and name == '"tables"':
            return
        what = "ALL TABLES" if name == "__show_tables_expanded" else name.strip('"').upper()
        raise Refused(f"SHOW {what} is not allowed: SHOW TABLES lists the views you can query")

    def _check_table(self, node: dict, ctes: frozenset[str]) -> None:
        path = node.get("qualified_name", {}).get("path") or [node.get("table_name", "")]
        name = ".".join(path)
        qualifier = [p.lower() for p in path[:-1]]
        last = path[-1].lower()
        if qualifier == [] and last in ctes:
            return
        if qualifier not in ([], ["main"], ["memory", "main"]) or last not in self._allowed:
            raise Refused(
                f"{name!r} is not an analyst view: only the documented views can be queried "
                "(listed in the schema browser and docs/data-dictionary.md), never files, "
                "URLs, raw tables or individual employee answers; customers' answers are in "
                "int_nps_responses"
            )

    def run(self, query: str, max_rows: int | None = None) -> Result:
        """The first max_rows rows (default: the display cap) of a checked query."""
        max_rows = max_rows or self.limits.max_rows
        started = time.perf_counter()

        def collect(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> pl.DataFrame:
            kept, rows = [], 0
            for batch in batches:
                kept.append(batch)
                rows += batch.num_rows
                if rows > max_rows:
                    break
            return _frame(kept, schema)

        frame = self._read(query, min(max_rows + 1, 65_536), max_rows + 1, collect)
        return Result(frame.head(max_rows), frame.height > max_rows, time.perf_counter() - started)

    def download(self, query: str, fmt: str, raw: bool = False) -> tuple[bytes, int, bool]:
        """The result as CSV or Parquet bytes, its row count, and whether the cap cut it short.

        Streams Arrow batches into the file, so memory holds the output, not a second copy.
        CSV is for spreadsheets: cells that would run as formulas are neutralised unless raw
        (etl/cells.py); Parquet keeps every value exact.
        """
        cap = self.limits.download_rows

        def write(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> tuple[bytes, int, bool]:
            import pyarrow.parquet as pq

            buffer = io.BytesIO()
            rows, cut, header = 0, False, True
            parquet = pq.ParquetWriter(buffer, schema) if fmt == "parquet" else None
            for batch in batches:
                if rows + batch.num_rows > cap:
                    batch, cut = batch.slice(0, cap - rows), True
                if parquet:
                    parquet.write_batch(batch)
                else:
                    # Polars quotes a CSV field only when it must (pyarrow quotes every string).
                    _csv_frame([batch], schema, raw).write_csv(buffer, include_header=header)
                    header = False
                rows += batch.num_rows
                if cut:
                    break
            if parquet:
                parquet.close()
            elif header:
                _csv_frame([], schema, raw).write_csv(buffer)
            return buffer.getvalue(), rows, cut

        return self._read(query, 65_536, cap + 1, write)

    def _read(self, query: str, batch_size: int, rows: int, sink: Callable[..., T]) -> T:
        """sink(schema, batches) over a checked query's first rows, run in a worker process."""
        self.check(query)
        if self._pool is None:
            with _Translate(self.limits):
                return sink(*self._local(query, batch_size))
        request = {"query": query, "batch_size": batch_size, "rows": rows}

        def use(worker: Worker) -> T:
            try:
                schema, batches = worker.stream(request, self.limits.timeout_seconds)
                result = sink(schema, batches)
                for _ in batches:  # what the sink did not need, up to the worker's "done"
                    pass
                return result
            except Stopped as stop:
                raise Refused(stop.message or _stopped(stop.limit, self.limits)) from None
            except Failed as failed:
                raise Refused(str(failed), detail=failed.detail) from None

        return self._pool.run(use)

    def _local(self, query: str, batch_size: int) -> tuple[pa.Schema, pa.RecordBatchReader]:
        reader = self._con.cursor().sql(query).to_arrow_reader(batch_size=batch_size)
        return reader.schema, reader


def answer(box: Sandbox, request: dict) -> Iterator[tuple[bytes, bytes]]:
    """The frames a worker sends for one request: schema, batches up to its rows, done; or an
    error sentence, with whether a limit stopped it."""
    from etl.warehouse.worker import BATCH, DONE, ERROR, SCHEMA

    try:
        box.check(request["query"])  # the caller checked too: this is the worker's own word
        with _Translate(box.limits):
            schema, reader = box._local(request["query"], request["batch_size"])
            yield SCHEMA, schema.serialize().to_pybytes()
            rows = 0
            for batch in reader:
                yield BATCH, batch.serialize().to_pybytes()
                rows += batch.num_rows
                if rows >= request["rows"]:
                    break
        yield DONE, b""
    except Refused as refused:
        said = {"message": str(refused), "stopped": refused.stopped, "detail": refused.detail}
        yield ERROR, json.dumps(said).encode()
    except MemoryError:
        message = _stopped("memory", box.limits)
        yield ERROR, json.dumps({"message": message, "stopped": "memory"}).encode()


def memory_bytes(size: str) -> int:
    """The bytes a DuckDB size such as 512MB, 2GB or 1.5GiB stands for (KB = 1000, KiB = 1024)."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b?|b)?\s*", size, re.IGNORECASE)
    if not found:
        raise CxkpiError(f"the SQL memory limit {size!r} is not a size such as 512MB or 4GB")
    unit = (found[2] or "b").lower().rstrip("b") or "b"
    base = 1024 if unit.endswith("i") else 1000
    power = {"b": 0, "k": 1, "m": 2, "g": 3, "t": 4}[unit[0]]
    return int(float(found[1]) * base**power)


def _stopped(limit: str, limits: Limits) -> str:
    if limit == "time":
        return (
            f"the query ran longer than the {limits.timeout_seconds:g} s limit and was "
            "stopped; filter or aggregate more (CXKPI_SQL_TIMEOUT changes the limit)"
        )
    if limit == "memory":
        return (
            f"the query needed more than the {limits.memory_limit} memory limit and was "
            "stopped; aggregate before joining or select fewer columns"
        )
    return "the SQL worker could not start; try again, and report it if it persists"


class _Translate:
    """Turns DuckDB's errors into one sentence a person can act on."""

    def __init__(self, limits: Limits):
        self.limits = limits

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type | None, error: BaseException | None, _: object) -> bool:
        if error is None or not isinstance(error, duckdb.Error):
            return False
        stopped = None
        if isinstance(error, duckdb.InterruptException):
            stopped = "time"
        elif isinstance(error, duckdb.OutOfMemoryException):
            stopped = "memory"
        if stopped:
            message = _stopped(stopped, self.limits)
        elif isinstance(error, duckdb.PermissionException):
            message = "the query tried to reach a file, URL or setting, which is not allowed"
        else:
            message = f"the query failed: {first_line(error)}"
        raise Refused(message, stopped, _detail(error)) from None


#: The most of DuckDB's error text kept for the workbench to show under its sentence.
DETAIL_CHARS = 2_000


def _detail(error: BaseException) -> str:
    """DuckDB's error text, whole but bounded, control characters written out."""
    text = str(error).strip().replace("\t", "    ")
    if len(text) > DETAIL_CHARS:
        text = text[:DETAIL_CHARS] + " …"
    return cells.escape_lines(text)


def _csv_frame(batches: list[pa.RecordBatch], schema: pa.Schema, raw: bool) -> pl.DataFrame:
    return cells.for_csv(_frame(batches, schema), raw)


def _frame(batches: list[pa.RecordBatch], schema: pa.Schema) -> pl.DataFrame:
    import polars as pl

    frame = pl.from_arrow(pa.Table.from_batches(batches, schema=schema))
    assert isinstance(frame, pl.DataFrame)
    return frame


def _statement_name(kind: str, query: str) -> str:
    word = query.strip().split(None, 1)[0].upper()
    return f"{word if word.isalpha() and word != 'WITH' else kind.replace('_', ' ')} statements"


def _quote(text: str) -> str:
    return text.replace("'", "''")
