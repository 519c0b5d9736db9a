"""Build the sql/ models on Apache Spark from a Parquet lake (docs/scale-out.md).

The models stay written once, in DuckDB's dialect; sqlglot translates each to Spark SQL when it
runs. Spark builds every model that scales with the data (staging and marts up to the
analyses), writing the tables to the lake; `publish` then makes a DuckDB file of them for the
dashboard, where the analyses' statistics run on the small marts, as they do after a DuckDB build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path

from etl.contract.metrics import metric_rows
from etl.contract.sources import SOURCES
from etl.errors import CxkpiError, first_line
from etl.scaleout import lake as lakes
from etl.warehouse.models import (
    BUILT,
    METRIC_DEFINITIONS,
    SQL_DIR,
    Model,
    discover,
    downstream,
    model_settings,
    ordered,
    reading_analyses,
)
from etl.warehouse.publish import PUBLISHED_ENGAGEMENT_COLUMNS

#: Spark settings that make Spark SQL answer as DuckDB does: timestamps without a time zone,
#: NULL (not an error) for a division by zero, partition keys kept as text.
SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Spark's own log: errors only (cxkpi says what failed in one line).
    "spark.driver.extraJavaOptions": "-Dlog4j2.configurationFile="
    + str(Path(__file__).resolve().parent / "spark_conf" / "log4j2.properties"),
}


@contextmanager
def running(master: str | None = None, settings: dict[str, str] | None = None):
    """A Spark session for one command: stopped at the end unless it was there before (a
    Databricks job's or a notebook's session is the platform's to stop)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CxkpiError(
            "the Spark engine needs pyspark: pip install 'cxkpi[spark]' (and Java 17 or later)"
        ) from None
    existing = SparkSession.getActiveSession()
    spark = session(master, settings)
    try:
        yield spark
    finally:
        if existing is None:
            spark.stop()


def session(master: str | None = None, settings: dict[str, str] | None = None):
    """A Spark session with cxkpi's settings and any more given (which win); master None lets
    spark-submit (or Spark) decide."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise CxkpiError(
            "the Spark engine needs pyspark: pip install 'cxkpi[spark]' (and Java 17 or later)"
        ) from None
    builder = SparkSession.builder.appName("cxkpi")
    if master:
        builder = builder.master(master)
    for key, value in {**SETTINGS, **(settings or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    from pyspark.logger import PySparkLogger

    # pyspark logs every failed query as a JSON stack trace; cxkpi reports it in one line.
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).disabled = True
    return spark


def to_spark(sql: str) -> str:
    """A model's DuckDB SQL in Spark's dialect; anything sqlglot cannot translate is an error.

    sqlglot translates the dialect; `_portable` adds the few DuckDB functions and types it
    passes through unchanged or approximates (interval constructors, HUGEINT, quantile_cont),
    each with Spark's equivalent,
    and every division is made a floating-point one, as it is in DuckDB.
    """
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    _refuse_untranslatable(tree)
    tree = tree.transform(_portable)
    for division in list(tree.find_all(exp.Div)):
        # DuckDB's `/` always divides in floating point; Spark divides decimals (a literal such
        # as 3600.0 is one) as decimals rounded to 6 places.
        division.set("this", exp.cast(division.this, "DOUBLE"))
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _refuse_untranslatable(tree) -> None:
    """DuckDB constructs sqlglot passes to Spark as they are (Spark then fails on them) or
    translates with a different meaning (an ordered aggregate loses its order)."""
    from sqlglot import exp

    for join in tree.find_all(exp.Join):
        if (join.args.get("method") or "").upper() == "ASOF":
            raise Untranslatable("an ASOF join")
    for star in tree.find_all(exp.Star):
        # (* EXCLUDE becomes Spark's * EXCEPT.)
        if any(star.args.get(k) for k in ("replace", "rename")):
            raise Untranslatable("SELECT * REPLACE or RENAME")
    for aggregate in tree.find_all(exp.AggFunc):
        if isinstance(aggregate.this, exp.Order):
            raise Untranslatable(f"an ordered aggregate ({aggregate.sql('duckdb')[:60]})")


class Untranslatable(CxkpiError):
    """A model uses DuckDB SQL that Spark SQL cannot express with the same meaning."""

    def __init__(self, what: str):
        super().__init__(
            f"uses {what}, which Spark SQL cannot express: rewrite it portably, or give the"
            " model `engine: duckdb` in its YAML if it reads only small marts"
        )


#: DuckDB interval constructors -> (Spark constructor, which of its arguments they fill):
#: make_dt_interval(days, hours, mins, secs) and make_ym_interval(years, months);
#: to_microseconds(n) fills secs with n / 1e6.
_INTERVALS = {
    "TO_DAYS": ("make_dt_interval", 0, 4),
    "TO_HOURS": ("make_dt_interval", 1, 4),
    "TO_MINUTES": ("make_dt_interval", 2, 4),
    "TO_SECONDS": ("make_dt_interval", 3, 4),
    "TO_MICROSECONDS": ("make_dt_interval", 3, 4),
    "TO_YEARS": ("make_ym_interval", 0, 2),
    "TO_MONTHS": ("make_ym_interval", 1, 2),
}


def _portable(node):
    from sqlglot import exp

    name = None
    if isinstance(node, exp.Anonymous):
        name = node.name.upper()
    elif type(node).__name__ in ("ToDays", "ToMonths", "ToYears"):
        name = "TO_" + type(node).__name__[2:].upper()
    if name in _INTERVALS:
        value = node.expressions[0] if isinstance(node, exp.Anonymous) else node.this
        if name == "TO_MICROSECONDS":
            value = exp.Div(this=exp.paren(value), expression=exp.Literal.number(1_000_000))
        function, position, arity = _INTERVALS[name]
        parts = [exp.Literal.number(0)] * arity
        parts[position] = value
        return exp.Anonymous(this=function, expressions=parts)
    if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
        # DuckDB's quantile_cont(x, q) interpolates exactly; Spark's percentile(x, q) does too
        # (its percentile_cont takes WITHIN GROUP only, and sqlglot would write an approximate).
        return exp.Anonymous(this="percentile", expressions=[node.this, node.expression])
    if isinstance(node, exp.DataType) and node.this == exp.DataType.Type.INT128:
        # HUGEINT keeps exact integer sums; DECIMAL(38, 0) is Spark's widest exact integer.
        return exp.DataType.build("DECIMAL(38, 0)")
    return node


def spark_models(sql_dir: Path = SQL_DIR) -> list[Model]:
    """The models Spark builds, in order: every SQL model built before the analyses, except
    those whose YAML says `engine: duckdb` and the models that read them.

    A model is kept on DuckDB when Spark SQL has no equivalent of what it does (kpi_headlines'
    ASOF join) and it reads only small marts, so where it runs does not matter for scale.
    """
    models = discover(sql_dir)
    pinned = {n for n, m in models.items() if m.spec.get("engine") == "duckdb"}
    local = reading_analyses(models) | downstream(models, pinned)
    return [m for m in ordered(models) if m.materialized in BUILT and m.name not in local]


def build(
    spark,
    lake: Path,
    on_model: Callable[[str], None] | None = None,
    sql_dir: Path = SQL_DIR,
    published: Sequence[tuple] = (),
) -> list[str]:
    """Build the models on Spark from the lake's raw and meta tables; the marts written.

    published: the rows of the warehouse's meta_published_engagement (the counts its board
    snapshots published), which live beside the snapshots, not in the lake.

    Views stay Spark temporary views; tables are written to LAKE/marts/<name> (split by month
    where they have a month column) and read back, so later models read what was stored.
    """
    lakes.check(lake)
    lakes.create_missing(lake)  # a source never loaded is an empty table, as in DuckDB
    lakes.tidy(lake)  # only live loads: not a stopped load's rows, nor rows replaced since
    for layer in ("raw", "meta"):
        for name, folder in lakes.tables(lake, layer).items():
            frame = read(spark, folder) if layer == "meta" else _raw(spark, folder, name)
            frame.createOrReplaceTempView(name)
    _seed(spark)
    _values_view(spark, "meta_published_engagement", PUBLISHED_ENGAGEMENT_COLUMNS, published)
    written = []
    for model in spark_models(sql_dir):
        if on_model:
            on_model(model.name)
        try:
            frame = spark.sql(to_spark(model.sql))
            if model.materialized == "view":
                frame.createOrReplaceTempView(model.name)
                continue
            folder = lakes.table_dir(lake, "marts", model.name)
            _write(frame, folder)  # Spark runs the query here: errors at run time land below
        except Exception as error:  # sqlglot and Spark raise many types; one line for a person
            raise CxkpiError(
                f"sql model {model.layer}/{model.name}.sql failed on Spark: {reason(error)}"
            ) from None
        read(spark, folder).createOrReplaceTempView(model.name)
        written.append(model.name)
    return written


#: DuckDB types of the contract's raw columns -> Spark's.
_RAW_TYPES = {
    "VARCHAR": "string",
    "BIGINT": "bigint",
    "DOUBLE": "double",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp_ntz",
    "DATE": "date",
}


def _raw(spark, folder: Path, table: str):
    """A raw table of the lake with every contract column: loads written before a column was
    added to the contract (a task's status, a yes/no recommend) lack it, and read it as empty."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    try:  # the union of the files' columns: old and new loads side by side
        frame = spark.read.option("mergeSchema", "true").parquet(str(folder))
        frame = frame.drop(*(k for k in lakes.PARTITION_KEYS if k in frame.columns))
    except AnalysisException:  # only empty placeholder files, which merging skips
        frame = read(spark, folder)
    source = next((s for s in SOURCES.values() if s.raw_table == table), None)
    for c in source.columns if source else ():
        if c.name not in frame.columns:
            frame = frame.withColumn(c.name, F.lit(None).cast(_RAW_TYPES[c.duckdb_type]))
    return frame


def _seed(spark) -> None:
    """metric_definitions and model_settings, as models.seed makes them in DuckDB.

    Written as SQL literals, not `createDataFrame` of Python rows, so executors never start a
    Python worker: on a cluster they need no Python of the driver's version, and no cxkpi.
    """
    _values_view(spark, "metric_definitions", METRIC_DEFINITIONS, metric_rows())
    settings = model_settings()
    _values_view(
        spark,
        "model_settings",
        [(name, kind) for name, kind, _ in settings],
        [tuple(value for _, _, value in settings)],
    )


def _values_view(spark, name: str, columns, rows) -> None:
    """A temporary view of rows given as Python values, typed as columns ((name, DuckDB type))."""
    values(spark, columns, rows).createOrReplaceTempView(name)


def values(spark, columns, rows):
    """A DataFrame of a few rows given as Python values, typed as columns ((name, DuckDB type)).

    SQL literals rather than `createDataFrame` of Python rows, which would start a Python
    worker on the executors.
    """
    names = ", ".join(column for column, _ in columns)
    typed = ", ".join(f"CAST({c} AS {_SPARK_TYPES.get(k, k)}) AS {c}" for c, k in columns)
    body = ", ".join("(" + ", ".join(_spark_literal(v) for v in row) + ")" for row in rows)
    if not rows:  # VALUES needs a row: one of NULLs, filtered out
        body = "(" + ", ".join("NULL" for _ in columns) + ")"
    where = "" if rows else " WHERE false"
    return spark.sql(f"SELECT {typed} FROM VALUES {body} AS seed({names}){where}")


def _spark_literal(value) -> str:
    """A Spark SQL literal: Spark strings escape with a backslash, not by doubling quotes."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


_SPARK_TYPES = {"VARCHAR": "STRING", "INTEGER": "INT", "BOOLEAN": "BOOLEAN"}


def _write(frame, folder: Path) -> None:
    from pyspark.sql import functions as F

    writer = frame
    if lakes.MART_PERIOD_COLUMN in frame.columns:
        writer = frame.withColumn(
            lakes.PERIOD, F.date_format(F.col(lakes.MART_PERIOD_COLUMN), "yyyy-MM")
        )
        writer.write.mode("overwrite").partitionBy(lakes.PERIOD).parquet(str(folder))
        if lakes.has_parquet(folder):
            return
        # No rows (a lake without the sources this mart reads): Spark writes no partition and
        # so no file. One unpartitioned empty file keeps the schema for reading it back.
    frame.coalesce(1).write.mode("overwrite").parquet(str(folder))


def read(spark, folder: Path):
    """A lake table as Spark reads it, without the partition keys."""
    frame = spark.read.parquet(str(folder))
    return frame.drop(*(k for k in lakes.PARTITION_KEYS if k in frame.columns))


def reason(error: Exception) -> str:
    """What went wrong on Spark, in one line (errors.first_line, but py4j's errors say which
    Java call failed before why, and prefix the why with ': ')."""
    lines = [line.strip().lstrip(": ") for line in str(error).splitlines() if line.strip()]
    if lines[1:] and lines[0].startswith("An error occurred while calling"):
        lines = lines[1:]
    return first_line(CxkpiError("\n".join(lines))) if lines else type(error).__name__
