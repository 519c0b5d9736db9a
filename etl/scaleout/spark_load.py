"""Load exports into the lake's raw layer on Apache Spark (`cxkpi load --engine spark`).

Spark reads, types and checks each file on its executors, in Spark SQL only (no Python runs
there). The driver keeps the books with the DuckDB load's own code (etl/loading/load.py): the load
runs, quarantine rows, messages and the rule that a file loaded again replaces its rows.

A file's good rows land in `LAKE/raw/<table>/period=YYYY-MM/load=<load_id>/`, its quarantined
rows in `LAKE/meta/meta_quarantine/load=<load_id>/`, and the load is committed when
meta_load_runs, rewritten in one rename, records it. Until then `lake.tidy` removes them;
after it, the folders of the load it replaced go (docs/scale-out.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from etl import settings
from etl.contract.sources import BOOLEAN_FALSE, BOOLEAN_TRUE, DEPARTMENTS, Source
from etl.errors import CxkpiError, FileRefused
from etl.loading import load as loading
from etl.loading.dialect import detect
from etl.loading.expectations import validate_spark
from etl.loading.load import REJECTED, FileResult, Staged
from etl.loading.read import (
    PROBLEM_SCHEMA,
    ROW,
    check_columns,
    check_line_lengths,
    detect_source,
    extra_columns,
    header,
    redact_answers,
    type_errors,
)
from etl.scaleout import lake as lakes
from etl.sqltext import literal

Reporter = Callable[[str, str, int], None]

#: Spark settings a load needs on top of the build's (etl/spark.SETTINGS).
SETTINGS = {
    # Every value of a row is parsed, so a row with too many or too few values is seen.
    "spark.sql.csv.parser.columnPruning.enabled": "false",
}

_CORRUPT = "_corrupt"
_ID = "_id"
_INDEX = "_file_index"
_BLOCK = "_block"
_TEXT = "_text_"
#: Polars' strip_chars(): Unicode white space at either end.
_SPACE = r"(?U)^\s+|\s+$"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_INFINITIES = ("inf", "+inf", "-inf", "infinity", "+infinity", "-infinity")
_DATE = r"^(\d{4})-(\d{1,2})-(\d{1,2})$"
#: The timestamp shapes etl/loading/read.py accepts: date, minutes, seconds with a fraction, and an
#: offset (Z, +01, +0100, +01:00) only after seconds.
_TIMESTAMP = (
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def load_files(
    spark,
    lake: Path,
    files: list[tuple[Path, str | None]],
    report: Reporter | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> list[FileResult]:
    """Load the files into the lake, a batch at a time; each batch committed or not at all.

    A batch is the files of one source in a row (with the same header), read by Spark in one
    pass: its files are read in parallel, and Spark's fixed cost per job is paid once.
    """
    from etl.scaleout.spark import reason

    lake = Path(lake)
    for key, value in SETTINGS.items():
        spark.conf.set(key, value)
    lakes.create_missing(lake)
    lakes.tidy(lake)
    results = []
    for group in _groups(files):
        try:
            done = _load_group(spark, lake, group, report)
        except CxkpiError:
            raise
        except Exception as error:  # Spark and py4j raise many types; one line for a person
            raise CxkpiError(
                f"{group[0][0]}: loading on Spark failed, nothing of its batch was kept:"
                f" {reason(error)}"
            ) from None
        finally:
            lakes.tidy(lake)
        for result in done:
            results.append(result)
            if on_result:
                on_result(result)
    return results


def _groups(files: list[tuple[Path, str | None]]) -> list[list[tuple[Path, str | None]]]:
    """Files in load order, grouped: consecutive files of one source with one header, none
    twice under one file key; a source replaced whole by each file is loaded a file at a time."""
    groups: list[list[tuple[Path, str | None]]] = []
    seen: set[str] = set()
    last = None
    for path, name in files:
        try:
            source = detect_source(path, name)
            shape = (source, tuple(header(path)))
        except FileRefused:
            source, shape = None, None
        key = loading.file_key(path, source) if source else str(path)
        if shape is None or shape != last or source.replace_all or key in seen:
            groups.append([])
            seen = set()
        groups[-1].append((path, name))
        seen.add(key)
        last = shape
    return groups


@dataclass
class _File:
    """A file of a batch: what the books need, and its place in the batch."""

    path: Path
    source: Source
    key: str
    digest: str
    names: list[str]
    load_id: int
    index: int = 0
    rows_read: int = 0


#: A row of a batch is known by (file index << _SHIFT) | its row number in its file.
_SHIFT = 36
_MASK = (1 << _SHIFT) - 1


def _load_group(spark, lake: Path, group, report: Reporter | None) -> list[FileResult]:
    """Load a group of files and commit them in one rewrite of meta_load_runs."""
    started = datetime.now()
    results: dict[Path, FileResult] = {}
    with lakes.read_runs(lake) as books:
        next_id = loading.next_load_id(books)
        batch: list[_File] = []
        pending: dict[str, tuple[int, str]] = {}  # files of this group: digest -> (id, key)
        for path, source_name in group:
            try:
                source = detect_source(path, source_name)
            except FileRefused as refused:
                results[path] = FileResult(path, source_name, "refused", message=refused.reason)
                continue
            digest = loading.sha256(path) if path.exists() else ""
            key = loading.file_key(path, source)
            same = loading.previous_load(books, digest) or pending.get(digest)
            if same and same[1] == key:
                results[path] = loading.unchanged(path, source, same)
                continue
            try:
                if same:
                    raise FileRefused(path, loading.loaded_as(same))
                names = _checked_header(path, source)
            except FileRefused as refused:
                results[path] = _refuse(books, next_id, path, source, key, digest, started, refused)
            else:
                batch.append(_File(path, source, key, digest, names, next_id, len(batch)))
                pending[digest] = (next_id, key)
            next_id += 1
        if batch:
            results.update(_load_batch(spark, books, lake, batch, started, report))
        lakes.replace(books, "meta_load_runs", lake)  # the commit
    return [results[path] for path, _ in group]


def _checked_header(path: Path, source: Source) -> list[str]:
    assumed = detect(path, source)
    if not assumed.plain:
        raise FileRefused(
            path,
            "the Spark engine reads UTF-8, comma-separated files only, and this one would be "
            + "; ".join(assumed.notices)
            + ": load it with the DuckDB engine, which reads it so, or re-export it",
        )
    check_line_lengths(path, empty_lines=_EMPTY_LINES)  # (CSV files only)
    names = header(path)
    check_columns(path, source, names)
    return names


_EMPTY_LINES = (
    "the Spark engine skips empty lines, where the DuckDB engine reads each as a row of empty"
    " values, so the rows after it would be numbered differently (remove it, or load the file"
    " with the DuckDB engine)"
)


def _refuse(books, load_id, path, source, key, digest, started, refused) -> FileResult:
    loading.record_run(
        books, load_id, path, source, key, digest, started, Staged(0, []), (0, 0), "refused",
        refused.reason,
    )  # fmt: skip
    return FileResult(path, source.name, "refused", message=refused.reason, load_id=load_id)


def _load_batch(spark, books, lake: Path, files: list[_File], started, report):
    """Read, type and check a batch on Spark, then keep its books file by file."""
    say = report or (lambda *_: None)
    source, names = files[0].source, files[0].names
    folder = lake / lakes.INCOMING / f"batch-{files[0].load_id}"
    for f in files:
        say(str(f.path), "reading on Spark", 0)
    text, refused = _numbered(spark, files, names)
    results = {
        f.path: _refuse(books, f.load_id, f.path, source, f.key, f.digest, started, refused[f.path])
        for f in files
        if f.path in refused
    }
    files = [f for f in files if f.path not in refused]
    if not files:
        return results
    kept, extras, dropped = _columns(source, names)
    staged_path = folder / "staged"
    _typed(text, source, kept, extras).write.mode("overwrite").parquet(str(staged_path))
    staged = spark.read.parquet(str(staged_path))
    for f in files:
        say(str(f.path), "validating on Spark", f.rows_read)
    problems = pl.concat(
        [
            _type_problems(staged, source, kept),
            validate_spark(source, staged.select(ROW, *source.column_names), _departments(lake)),
        ]
    )
    rejected = loading.rejected_rows(
        _text_of(spark, staged, source, kept, problems[ROW], folder), problems
    )
    rejected = pl.concat(
        [rejected, _key_rejections(spark, lake, staged, source, files, kept, rejected, folder)]
    )
    loaded = _write(spark, staged, source, files, rejected, folder)
    for f in files:
        mine = rejected.filter(pl.col(ROW) // (_MASK + 1) == f.index).with_columns(
            pl.col(ROW) % (_MASK + 1)
        )
        stage = Staged(f.rows_read, dropped)
        results[f.path] = _book(books, folder, f, stage, mine, loaded.get(f.load_id, 0), started)
    _move(folder / "raw", lakes.table_dir(lake, "raw", source.raw_table))
    _move(folder / "quarantine", lakes.folder_of(lake, "meta_quarantine"))
    return results


def _numbered(spark, files: list[_File], names: list[str]):
    """The batch's rows as text, each known by its file and 1-based row number, counted
    without a Python task; and the files refused, with why.

    Spark splits a file into blocks read in parallel; within a block rows keep their order and
    consecutive ids, so a row's number is the rows of earlier blocks plus its place in its own.
    """
    from functools import reduce

    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from etl.scaleout.spark import values

    schema = T.StructType(
        [T.StructField(n, T.StringType()) for n in names]
        + [T.StructField(_CORRUPT, T.StringType())]
    )
    reader = (
        spark.read.schema(schema)
        .options(header=True, mode="PERMISSIVE", columnNameOfCorruptRecord=_CORRUPT)
        .options(encoding="UTF-8", escape='"', multiLine=False)
    )

    def read(f: _File):
        if f.path.suffix.lower() == ".parquet":
            frame = _parquet_text(spark, f.path, names)
        else:
            frame = reader.csv(str(f.path))
        return frame.withColumn(_INDEX, F.lit(f.index))

    text = reduce(lambda a, b: a.unionByName(b), map(read, files)).select(
        "*",
        F.monotonically_increasing_id().alias(_ID),
        F.expr("input_file_block_start()").alias(_BLOCK),
    )
    blocks = (
        text.groupBy(_INDEX, _BLOCK)
        .agg(
            F.count(F.lit(1)).alias("n"),
            F.count(names[0]).alias("values"),  # a data column, so the parser reads the rows
            F.min(_ID).alias("first"),
            F.min(F.when(F.col(_CORRUPT).isNotNull(), F.col(_ID))).alias("bad"),
        )
        .orderBy(_INDEX, _BLOCK)
        .collect()
    )
    refused: dict[Path, FileRefused] = {}
    shifts = []
    for f in files:
        rows = 0
        for block in (b for b in blocks if b[_INDEX] == f.index):
            if block["bad"] is not None and f.path not in refused:
                row = rows + block["bad"] - block["first"] + 1
                refused[f.path] = FileRefused(
                    f.path,
                    f"line {row + 1} (row {row}) does not have the header's {len(names)} values:"
                    " a ragged row, or a line break inside a quoted value, which the Spark"
                    " engine does not read (fix the export, or load it with the DuckDB engine)",
                )
            shifts.append((f.index, block[_BLOCK], (f.index << _SHIFT) + rows - block["first"] + 1))
            rows += block["n"]
        f.rows_read = rows
        if rows == 0:
            refused[f.path] = FileRefused(f.path, "file has a header but no data rows")
    columns = ((_INDEX, "INTEGER"), (_BLOCK, "BIGINT"), ("shift", "BIGINT"))
    offsets = values(spark, columns, shifts or [(0, 0, 0)])
    numbered = (
        text.join(F.broadcast(offsets), [_INDEX, _BLOCK])
        .where(~F.col(_INDEX).isin([f.index for f in files if f.path in refused]))
        .withColumn(ROW, (F.col(_ID) + F.col("shift")).cast("bigint"))
    )
    return numbered.drop(_ID, _BLOCK, "shift", _CORRUPT, _INDEX), refused


def _parquet_text(spark, path: Path, names: list[str]):
    """A Parquet export's values as text, as etl/loading/read.py makes them (names: its columns as
    the loader names them, in order); timestamps keep 0, 3 or 6 digits of fraction."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    frame = spark.read.parquet(str(path))
    columns = []
    for field, name in zip(frame.schema.fields, names, strict=True):
        column = F.col(f"`{field.name}`")
        if isinstance(field.dataType, T.TimestampType | T.TimestampNTZType):
            micros = F.date_format(column, "SSSSSS")
            fraction = (
                F.when(micros == "000000", "")
                .when(
                    F.substring(micros, 4, 3) == "000",
                    F.concat(F.lit("."), F.substring(micros, 1, 3)),
                )
                .otherwise(F.concat(F.lit("."), micros))
            )
            text = F.concat(F.date_format(column, "yyyy-MM-dd'T'HH:mm:ss"), fraction)
        else:
            text = column.cast("string")
        columns.append(text.alias(name))
    return frame.select(*columns, F.lit(None).cast("string").alias(_CORRUPT))


def _columns(source: Source, names: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The file's columns kept as text (in file order), its extras, and those dropped."""
    extras, dropped = extra_columns(source, names)
    return [c for c in names if c not in dropped], extras, dropped


def _typed(text, source: Source, kept: list[str], extras: list[str]):
    """Rows with each contract column typed as loading/read.py types it, `_extra`, and the text."""
    from pyspark.sql import functions as F

    clean = {c: F.nullif(F.regexp_replace(F.col(c), _SPACE, ""), F.lit("")) for c in kept}
    typed = [
        (
            _parse(clean[c.name], c.type)
            if c.name in clean
            else F.lit(None).cast(_spark_type(c.type))
        )
        .cast(_spark_type(c.type))
        .alias(c.name)
        for c in source.columns
    ]
    extra = (
        F.to_json(F.struct(*(clean[c].alias(c) for c in extras)), {"ignoreNullFields": "false"})
        if extras
        else F.lit(None).cast("string")
    )
    return text.select(
        F.col(ROW),
        *typed,
        extra.alias("_extra"),
        *(clean[c].alias(_TEXT + c) for c in kept),
    )


def _spark_type(kind: str) -> str:
    return {
        "str": "string",
        "int": "bigint",
        "number": "double",
        "bool": "boolean",
        "timestamp": "timestamp_ntz",
        "date": "date",
    }[kind]


def _parse(column, kind: str):
    """A text column typed as etl/read._parse_column types it (NULL where it does not parse)."""
    from pyspark.sql import functions as F

    if kind == "str":
        return column
    if kind == "number":
        return _number(column)
    if kind == "int":
        number = _number(column)
        return F.when((number == F.floor(number)) & (F.abs(number) < 2.0**63), number)
    if kind == "bool":
        lowered = F.lower(column)
        return F.when(lowered.isin(*BOOLEAN_TRUE), True).when(lowered.isin(*BOOLEAN_FALSE), False)
    if kind == "date":
        part = [F.regexp_extract(column, _DATE, i).cast("int") for i in (1, 2, 3)]
        return F.when(column.rlike(_DATE), F.make_date(*part))
    return _timestamp(column)


def _number(column):
    from pyspark.sql import functions as F

    lowered = F.lower(column)
    return (
        F.when(column.rlike(_NUMBER) | lowered.isin(*_INFINITIES), column.cast("double"))
        # Polars reads a signed NaN, which Spark's cast does not.
        .when(lowered.isin("nan", "+nan", "-nan"), F.lit(float("nan")))
    )


def _timestamp(column):
    from pyspark.sql import functions as F

    def part(i: int):
        return F.regexp_extract(column, _TIMESTAMP, i)

    def number(i: int):
        return F.when(part(i) != "", part(i).cast("int")).otherwise(F.lit(0))

    micros = F.when(part(7) != "", F.rpad(F.substring(part(7), 1, 6), 6, "0").cast("int"))
    seconds = (number(6) * 1_000_000 + F.coalesce(micros, F.lit(0))) / 1_000_000
    # Seconds are added, not given to make_timestamp, which takes 60 but not 60.5: a leap
    # second is the next minute's first, as Polars reads it.
    minute = F.make_timestamp_ntz(number(1), number(2), number(3), number(4), number(5), F.lit(0))
    naive = minute + F.make_dt_interval(F.lit(0), F.lit(0), F.lit(0), seconds.cast("decimal(8,6)"))
    zone = part(8)
    sign = F.when(F.substring(zone, 1, 1) == "-", -1).otherwise(1)
    digits = F.regexp_replace(zone, "[^0-9]", "")
    minutes = sign * (
        F.coalesce(F.nullif(F.substring(digits, 1, 2), F.lit("")).cast("int"), F.lit(0)) * 60
        + F.coalesce(F.nullif(F.substring(digits, 3, 2), F.lit("")).cast("int"), F.lit(0))
    )
    utc = naive - F.make_dt_interval(F.lit(0), F.lit(0), minutes, F.lit(0))
    local = utc
    if (business := settings.TIMEZONE.get()) != "UTC":
        local = F.from_utc_timestamp(utc.cast("timestamp"), business).cast("timestamp_ntz")
    shaped = column.rlike(_TIMESTAMP) & ((zone == "") | (part(6) != "")) & (number(6) <= 60)
    return F.when(shaped & (zone == ""), naive).when(shaped, local)


def _type_problems(staged, source: Source, kept: list[str]) -> pl.DataFrame:
    """Type errors, with etl/loading/read.py's messages: the failing rows come to the driver."""
    from pyspark.sql import functions as F

    present = [c for c in source.columns if c.name in kept]
    if not present:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    failing = F.lit(False)
    for c in present:
        failing = failing | (F.col(_TEXT + c.name).isNotNull() & F.col(c.name).isNull())
    rows = _polars(
        staged.where(failing).select(
            ROW, *(c.name for c in present), *(_TEXT + c.name for c in present)
        )
    )
    text = rows.select(ROW, *(pl.col(_TEXT + c.name).alias(c.name) for c in present))
    typed = rows.select(ROW, *(c.name for c in present))
    return pl.concat([type_errors(text, typed, c.name, c.type) for c in present])


def _text_of(
    spark, staged, source: Source, kept: list[str], rows: pl.Series, folder: Path
) -> pl.DataFrame:
    """The given rows as read (trimmed text, answers redacted as etl/loading/read.py does)."""
    from pyspark.sql import functions as F

    chosen = _rows_frame(spark, rows.unique(), folder)
    text = _polars(staged.join(chosen, ROW).select(ROW, *(F.col(_TEXT + c).alias(c) for c in kept)))
    return redact_answers(text) if source.anonymous else text


def _key_rejections(
    spark, lake, staged, source: Source, files: list[_File], kept, rejected, folder: Path
) -> pl.DataFrame:
    """Rows breaking the key rules, as loading/load.py finds them loading the files one by one: a
    key twice in a file; then, unless the source is replaced whole, a key that another file
    holds, in the lake or earlier in the batch."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    from etl.scaleout.spark import read, values

    keys = list(source.key)
    names = ", ".join(keys)
    index = F.shiftright(F.col(ROW), _SHIFT)
    present = F.lit(True)
    for k in keys:
        present = present & F.col(k).isNotNull()
    good = (
        staged.join(_rows_frame(spark, rejected[ROW], folder), ROW, "left_anti")
        .where(present)
        .withColumn(_INDEX, index)
    )
    twice = (
        good.withColumn("n", F.count(F.lit(1)).over(Window.partitionBy(_INDEX, *keys)))
        .where("n > 1")
        .select(ROW, F.lit(f"{names} appears more than once in the file").alias("message"))
    )
    found = [_polars(twice).with_columns(rule=pl.lit("unique"))]
    if not source.replace_all:
        batch = values(
            spark, ((_INDEX, "BIGINT"), ("_file", "VARCHAR")), [(f.index, f.key) for f in files]
        )
        others = (
            read(spark, lakes.table_dir(lake, "raw", source.raw_table))
            .join(F.broadcast(batch.select("_file")), "_file", "left_anti")
            .groupBy(*keys)
            .agg(F.min("_file").alias("_lake_file"))
        )
        first = F.min(_INDEX).over(Window.partitionBy(*keys))
        candidates = (
            good.join(twice.select(ROW), ROW, "left_anti")
            .withColumn("_first", first)
            .join(F.broadcast(batch.withColumnRenamed(_INDEX, "_first")), "_first")
            .join(others, keys, "left")
        )
        across = candidates.where(
            F.col("_lake_file").isNotNull() | (F.col(_INDEX) > F.col("_first"))
        ).select(
            ROW,
            F.concat(
                F.lit(f"{names} already loaded from "), F.coalesce("_lake_file", "_file")
            ).alias("message"),
        )
        found.append(_polars(across).with_columns(rule=pl.lit("unique_across_files")))
    offenders = pl.concat(found)
    if offenders.is_empty():
        return rejected.clear()
    text = _text_of(spark, staged, source, kept, offenders[ROW], folder)
    problems = offenders.select(
        pl.col(ROW).cast(pl.Int64), pl.lit(names).alias("column"), "rule", "message"
    )
    return loading.rejected_rows(text, problems).select(rejected.columns)


def _rows_frame(spark, rows: pl.Series, folder: Path):
    """Row numbers as a Spark DataFrame: a Parquet file in the batch's staging folder, which
    the executors read (a `createDataFrame` of driver data can start a Python worker)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"rows-{next(_ROW_FILES):06d}.parquet"
    pl.DataFrame({ROW: rows.cast(pl.Int64)}).write_parquet(path)
    return spark.read.parquet(str(path))


_ROW_FILES = itertools.count()


def _polars(frame) -> pl.DataFrame:
    return pl.from_arrow(frame.toArrow())


def _departments(lake: Path) -> frozenset[str]:
    folder = lakes.table_dir(lake, "raw", DEPARTMENTS.raw_table)
    rows = duckdb.sql(f"SELECT department_id FROM {lakes.duckdb_source(folder)}").fetchall()
    return frozenset(r[0] for r in rows)


def _write(spark, staged, source: Source, files: list[_File], rejected, folder: Path):
    """Write the batch's good rows under folder/raw, split by month and load; rows per load."""
    from pyspark.sql import functions as F

    from etl.scaleout.spark import values

    ids = values(
        spark,
        ((_INDEX, "BIGINT"), ("_load_id", "BIGINT"), ("_file", "VARCHAR")),
        [(f.index, f.load_id, f.key) for f in files],
    )
    good = (
        staged.join(_rows_frame(spark, rejected[ROW], folder), ROW, "left_anti")
        .withColumn(_INDEX, F.shiftright(F.col(ROW), _SHIFT))
        .join(F.broadcast(ids), _INDEX)
        .select(
            *source.column_names,
            "_load_id",
            "_file",
            (F.col(ROW).bitwiseAND(F.lit(_MASK))).alias(ROW),
            "_extra",
            F.col("_load_id").alias(lakes.LOAD),
        )
    )
    keys = [lakes.LOAD]
    period_of = lakes.RAW_PERIOD_COLUMNS.get(source.raw_table)
    if period_of:
        good = good.withColumn(lakes.PERIOD, F.date_format(F.col(period_of), "yyyy-MM"))
        keys = [lakes.PERIOD, lakes.LOAD]
    written = folder / "raw"
    good.write.partitionBy(*keys).parquet(str(written))
    if not any(written.rglob("*.parquet")):
        return {}
    glob = literal(str(written / "**" / "*.parquet"))
    counts = duckdb.sql(
        f"SELECT {lakes.LOAD}::BIGINT, count(*) FROM read_parquet({glob}, hive_partitioning ="
        f" true, hive_types = {{'{lakes.LOAD}': VARCHAR}}) GROUP BY ALL"
    ).fetchall()
    return dict(counts)


def _book(
    books, folder: Path, f: _File, stage: Staged, rejected: pl.DataFrame, loaded: int, started
):
    """Record one file's load as loading/load.py does, and stage its quarantined rows in folder."""
    replaced = loading.supersede(books, f.source, f.key, f.load_id)
    if loaded + len(rejected) != f.rows_read:
        raise RuntimeError(f"{f.path}: {f.rows_read} rows read but {loaded} + {len(rejected)} kept")
    books.register("_rejected_frame", rejected.to_arrow())
    books.execute(f"CREATE OR REPLACE TABLE {REJECTED} AS FROM _rejected_frame")
    books.unregister("_rejected_frame")
    loading.insert_quarantine(books, f.source, f.path, f.load_id)
    status = "quarantined" if len(rejected) else "loaded"
    message = loading.run_message(books, stage, replaced)
    loading.record_run(
        books, f.load_id, f.path, f.source, f.key, f.digest, started, stage,
        (loaded, len(rejected)), status, message,
    )  # fmt: skip
    books.execute(f"DROP TABLE {REJECTED}")
    if len(rejected):
        quarantine = folder / "quarantine" / f"{lakes.LOAD}={f.load_id}"
        quarantine.mkdir(parents=True)
        books.execute(
            f"COPY (FROM meta_quarantine WHERE load_id = {f.load_id} ORDER BY row_number)"
            f" TO {literal(str(quarantine / 'part-0.parquet'))} (FORMAT parquet)"
        )
    return FileResult(
        f.path, f.source.name, status, f.rows_read, loaded, len(rejected), message, f.load_id
    )


def _move(written: Path, table: Path) -> None:
    """Move a batch's partition folders (load=N, or period=P/load=N) into a table's folder."""
    if not written.is_dir():
        return
    for load in sorted(written.glob(f"{lakes.LOAD}=*")) + sorted(written.glob(f"*/{lakes.LOAD}=*")):
        target = table / load.relative_to(written)
        target.parent.mkdir(parents=True, exist_ok=True)
        load.rename(target)
