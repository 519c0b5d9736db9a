"""Apply the SQL models in sql/ in dependency order and run the tests their YAML declares."""

from __future__ import annotations

import copy
import functools
import re
from dataclasses import dataclass, field
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import duckdb

from etl import PACKAGE, ROOT
from etl.config_file import load
from etl.contract import metrics
from etl.contract.metrics import metric_rows
from etl.contract.sources import SOURCES
from etl.errors import CxkpiError, first_line

#: The models: inside the package when installed from a wheel, beside it in a checkout.
SQL_DIR = PACKAGE / "sql" if (PACKAGE / "sql").is_dir() else ROOT / "sql"
#: The folder decides how a model is stored; a model's YAML may override with `materialized`.
#: "python": tables etl/analyses/build.py writes; "snapshot": tables `cxkpi snapshot` adds rows to
#: (etl/reporting/snapshot.py), absent until the first snapshot. Both are documented by YAML alone.
MATERIALIZATION = {
    "staging": "view",
    "intermediate": "table",
    "marts": "table",
    "analyses": "python",
    "snapshots": "snapshot",
}
BUILT = ("view", "table")
#: Reads that need a value known only when they run (a snapshot, a month): named SQL files,
#: not models, read by `query` and run with DuckDB `$name` parameters.
QUERIES_DIR = SQL_DIR / "queries"


@dataclass
class Model:
    """One SQL file and the YAML beside it."""

    name: str
    layer: str
    sql: str
    spec: dict
    depends_on: set[str] = field(default_factory=set)

    @property
    def materialized(self) -> str:
        """'view' or 'table'."""
        return self.spec.get("materialized", MATERIALIZATION[self.layer])

    @property
    def columns(self) -> dict[str, dict]:
        """Column name -> its YAML entry (description and tests)."""
        return {c["name"]: c for c in self.spec.get("columns", [])}


def discover(sql_dir: Path = SQL_DIR) -> dict[str, Model]:
    """Every model under sql/, with its dependencies on other models."""
    models: dict[str, Model] = {}
    for layer in MATERIALIZATION:
        if MATERIALIZATION[layer] not in BUILT:
            # Tables written by Python: documented and tested like SQL models.
            for spec_path in sorted((sql_dir / layer).glob("*.yml")):
                models[spec_path.stem] = Model(spec_path.stem, layer, "", _read_spec(spec_path))
            continue
        for path in sorted((sql_dir / layer).glob("*.sql")):
            spec_path = path.with_suffix(".yml")
            spec = _read_spec(spec_path)
            models[path.stem] = Model(path.stem, layer, path.read_text(), spec or {})
    for model in models.values():
        words = set(re.findall(r"\b[a-z_][a-z0-9_]*\b", _strip_comments(model.sql)))
        model.depends_on = (words & set(models)) - {model.name}
    return models


@functools.cache
def query(name: str) -> str:
    """The SQL of sql/queries/<name>.sql, to run with its `$name` parameters bound by DuckDB
    (never formatted into the text)."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise CxkpiError(f"no query sql/queries/{name}.sql")
    return path.read_text()


def _read_spec(path: Path) -> dict:
    if not path.exists():
        return {}
    info = path.stat()
    return copy.deepcopy(_parsed_spec(path, info.st_mtime_ns, info.st_size))


@functools.lru_cache(maxsize=512)
def _parsed_spec(path: Path, mtime_ns: int, size: int) -> dict:
    """A model's YAML, read with the bounds of any YAML a person writes: once per version of
    the file in a process (every build and page reads the same few dozen files)."""
    return load(path, "the model's YAML") or {}


def _strip_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*", "", sql)


def ordered(models: dict[str, Model]) -> list[Model]:
    """Models in an order where each comes after everything it reads."""
    graph = {name: model.depends_on for name, model in models.items()}
    try:
        return [models[name] for name in TopologicalSorter(graph).static_order()]
    except CycleError as cycle:
        raise CxkpiError(f"sql/ models depend on each other in a cycle: {cycle.args[1]}") from None


#: The metric_definitions seed table: the Metric fields in order, with their DuckDB types.
METRIC_DEFINITIONS = (
    ("metric", "VARCHAR"),
    ("family", "VARCHAR"),
    ("better", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("min_n", "INTEGER"),
    ("definition", "VARCHAR"),
    ("n_counts", "VARCHAR"),
    ("label", "VARCHAR"),
    ("by_channel", "BOOLEAN"),
    ("sampling", "VARCHAR"),
)


def seed(con: duckdb.DuckDBPyConnection) -> None:
    """Reference tables the models read that come from code: metric definitions, settings."""
    columns = ", ".join(f"{name} {kind}" for name, kind in METRIC_DEFINITIONS)
    con.execute(f"CREATE OR REPLACE TABLE metric_definitions ({columns}, PRIMARY KEY (metric))")
    con.executemany(
        f"INSERT INTO metric_definitions VALUES ({', '.join('?' * len(METRIC_DEFINITIONS))})",
        metric_rows(),
    )
    settings = model_settings()
    typed = ", ".join(f"${name}::{kind} AS {name}" for name, kind, _ in settings)
    con.execute(
        f"CREATE OR REPLACE TABLE model_settings AS SELECT {typed}",
        {name: value for name, _, value in settings},
    )


def model_settings() -> list[tuple[str, str, object]]:
    """The model_settings seed row: (column, DuckDB type, value) of each threshold SQL reads."""
    from etl.analyses import thresholds

    return [
        ("repeat_window_days", "INTEGER", metrics.REPEAT_WINDOW_DAYS),
        ("z_95", "DOUBLE", metrics.Z_95),
        ("value_window_months", "INTEGER", thresholds.VALUE_WINDOW_MONTHS),
        ("material_relative_change", "DOUBLE", thresholds.MATERIAL_RELATIVE_CHANGE),
        ("complete_share", "DOUBLE", metrics.COMPLETE_SHARE),
        ("typical_months", "INTEGER", metrics.TYPICAL_MONTHS),
        ("min_judged_rows", "INTEGER", metrics.MIN_JUDGED_ROWS),
        ("month_end_slack_days", "INTEGER", metrics.MONTH_END_SLACK_DAYS),
        # The initiative windows, so the initiatives page can count what lies behind a lift.
        ("initiative_baseline_months", "INTEGER", thresholds.BASELINE_MONTHS),
        ("initiative_baseline_skip", "INTEGER", thresholds.BASELINE_SKIP),
        ("initiative_early_month", "INTEGER", thresholds.EARLY_MONTH),
        ("initiative_late_from", "INTEGER", thresholds.LATE_MONTHS[0]),
        ("initiative_late_to", "INTEGER", thresholds.LATE_MONTHS[1]),
    ]


def build(
    con: duckdb.DuckDBPyConnection,
    on_model=None,
    sql_dir: Path = SQL_DIR,
    prebuilt: dict[str, str] | None = None,
) -> list[str]:
    """Create every model in dependency order inside one transaction; the names built.

    prebuilt: tables another engine built (name -> a table expression reading them, such as
    the lake's Parquet): copied in instead of run (etl/scaleout/lake.py).
    """
    prebuilt = prebuilt or {}
    present = {
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() UNION ALL"
            " SELECT view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    }
    missing = [s.raw_table for s in SOURCES.values() if s.raw_table not in present]
    if missing:
        raise CxkpiError(f"raw tables missing ({', '.join(missing)}): run `cxkpi load` first")
    from etl.analyses.build import build as build_analyses
    from etl.warehouse.published_waves import close_frozen_waves

    models = discover(sql_dir)
    readers = reading_analyses(models)
    built = []
    con.begin()
    try:
        seed(con)
        steps = [m for m in ordered(models) if m.materialized in BUILT]
        for model in (m for m in steps if m.name not in readers):
            _create(con, model, on_model, prebuilt.get(model.name))
            built.append(model.name)
        close_frozen_waves(con)  # before the analyses read the figures of those waves
        if on_model:
            on_model("analyses")
        built += build_analyses(con)
        for model in (m for m in steps if m.name in readers):
            _create(con, model, on_model)
            built.append(model.name)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return built


def reading_analyses(models: dict[str, Model]) -> set[str]:
    """SQL models that read, directly or not, a table the analyses write: built after them."""
    return downstream(models, {n for n, m in models.items() if m.materialized == "python"})


def downstream(models: dict[str, Model], roots: set[str]) -> set[str]:
    """The built models among roots and every model that reads one of them, directly or not."""
    readers = set(roots)
    grew = True
    while grew:
        more = {name for name, model in models.items() if model.depends_on & readers}
        grew = not more <= readers
        readers |= more
    return {name for name in readers if models[name].materialized in BUILT}


def _create(con: duckdb.DuckDBPyConnection, model: Model, on_model, copy_of: str | None = None):
    if on_model:
        on_model(model.name)
    _drop_other_kind(con, model)
    kind = "VIEW" if model.materialized == "view" else "TABLE"
    try:
        if copy_of is None:
            con.execute(f"CREATE OR REPLACE {kind} {model.name} AS\n{model.sql}")
        else:
            # The model's own columns and types (planned, not run), filled from the copy.
            con.execute(f"CREATE OR REPLACE TABLE {model.name} AS\n{model.sql}\nLIMIT 0")
            con.execute(f"INSERT INTO {model.name} BY NAME FROM {copy_of}")
    except duckdb.Error as error:
        raise CxkpiError(
            f"sql model {model.layer}/{model.name}.sql failed: {str(error).splitlines()[0]}"
        ) from None


def _drop_other_kind(con: duckdb.DuckDBPyConnection, model: Model) -> None:
    """Drop an object of the model's name that is a table where a view is wanted, or vice versa."""
    other = "table" if model.materialized == "view" else "view"
    exists = con.execute(
        f"SELECT 1 FROM duckdb_{other}s() WHERE {other}_name = $name AND NOT internal",
        {"name": model.name},
    ).fetchone()
    if exists:
        con.execute(f"DROP {other.upper()} {model.name}")


def run_tests(con: duckdb.DuckDBPyConnection, sql_dir: Path = SQL_DIR) -> list[str]:
    """Failures of every test declared in the models' YAML (empty when all pass)."""
    failures = []
    present = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    for model in discover(sql_dir).values():
        if model.materialized == "snapshot" and model.name not in present:
            continue
        for query, label in _test_queries(model):
            try:
                bad = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]
            except duckdb.Error as error:
                # Data a test does not expect (a key twice, say) can break the test's own
                # query; that is a failure to report beside the others, not a crash.
                failures.append(f"{model.name}: {label}: could not run: {first_line(error)}")
                continue
            if bad:
                failures.append(f"{model.name}: {label}: {bad} failing row(s)")
    return failures


def refuse_failures(con: duckdb.DuckDBPyConnection, what: str, sql_dir: Path | None = None) -> None:
    """Raise, naming the first failures, if any test the models' YAML declares fails: raised
    inside a writing session (etl/warehouse/publish.py), nothing is published.

    what: the start of the message, e.g. "data/cxkpi.duckdb: the models".
    """
    failures = run_tests(con, sql_dir or SQL_DIR)
    if failures:
        shown = "; ".join(failures[:3]) + (
            f"; and {len(failures) - 3} more" if failures[3:] else ""
        )
        raise CxkpiError(
            f"{what} fail {len(failures)} of the models' tests, so nothing was published: {shown}"
        )


def _test_queries(model: Model):
    table = model.name
    for column, entry in model.columns.items():
        for test in entry.get("tests", []):
            name, arg = next(iter(test.items())) if isinstance(test, dict) else (test, None)
            col = f'"{column}"'
            if name == "not_null":
                yield f"SELECT 1 FROM {table} WHERE {col} IS NULL", f"{column} not_null"
            elif name == "unique":
                yield (
                    f"SELECT {col} FROM {table} WHERE {col} IS NOT NULL GROUP BY {col}"
                    f" HAVING count(*) > 1",
                    f"{column} unique",
                )
            elif name == "accepted_values":
                values = ", ".join(f"'{v}'" for v in arg)
                yield (
                    f"SELECT 1 FROM {table} WHERE {col} NOT IN ({values})",
                    f"{column} accepted_values",
                )
            elif name == "relationships":
                yield (
                    f"SELECT 1 FROM {table} t WHERE t.{col} IS NOT NULL AND NOT EXISTS"
                    f" (SELECT 1 FROM {arg['to']} r WHERE r.{arg['field']} = t.{col})",
                    f"{column} relationships {arg['to']}.{arg['field']}",
                )
            elif name == "expression":
                yield f"SELECT 1 FROM {table} WHERE NOT ({arg})", f"{column} expression {arg}"
            else:
                raise CxkpiError(f"{model.name}.yml: unknown test '{name}' on {column}")
    for test in model.spec.get("tests", []):
        name, arg = next(iter(test.items()))
        if name == "unique_combination":
            cols = ", ".join(f'"{c}"' for c in arg)
            yield (
                f"SELECT {cols} FROM {table} GROUP BY {cols} HAVING count(*) > 1",
                f"unique ({cols})",
            )
        elif name == "expression":
            yield f"SELECT 1 FROM {table} WHERE NOT ({arg})", f"expression {arg}"
        else:
            raise CxkpiError(f"{model.name}.yml: unknown model test '{name}'")
