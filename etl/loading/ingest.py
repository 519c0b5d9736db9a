"""Type and check a plain CSV export inside DuckDB's own CSV reader.

The checked path types every value with Polars (etl/loading/read.py) and runs every row through
Great Expectations (etl/loading/expectations.py): several times DuckDB's bare ingest of the
same file.
Most rows of an export are fine, so this path reads the file with DuckDB's parallel reader,
types every value in SQL as etl/loading/read.py types it, and marks as *suspect* every row that a
contract rule might reject or whose values SQL cannot type exactly as Polars does. Only the
suspect rows then take the checked path, which decides about them and writes their
quarantine as it always has. Two properties make the result the same as checking every row
(tests/unit/test_ingest_values.py and tests/integration/test_ingest.py prove them):

- a value SQL types is the value Polars gives it; where they could differ, SQL gives NULL,
  which makes the row suspect;
- a row that the typing or a Great Expectations rule rejects is always suspect (the flags
  are the same rules, written in SQL, erring towards suspicion).

Columns beyond the contract are carried too: `_extra` is built in SQL as the JSON object the
checked path writes (a value with a control character, which the two JSON writers escape
differently, makes its row suspect). White space other than the space is trimmed as Polars
trims it: DuckDB's `trim` is given the same 25 Unicode white-space characters.

Parquet exports are typed here too, where each column's type gives text that types alike
(parquet_read).

A file that is not plain takes the checked path whole: a mapping profile, a Parquet column
of another type (a float, a decimal, a zoned timestamp), a column name twice or with a
control character, or a reader that does not see one row per line (quoted line breaks, empty
or broken lines).
So does a file with more than a third of its rows suspect (a department not loaded yet, a
timestamp shape SQL leaves to Polars): checking it whole in chunks is then as quick
(measured: equal at a third), and its memory stays bounded by the chunk.
`CXKPI_INGEST=checked` sends every file the checked way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from etl import settings
from etl.contract.profiles import column_name
from etl.contract.sources import ALL_DEPARTMENTS, BOOLEAN_FALSE, BOOLEAN_TRUE, Column, Source
from etl.loading.read import EXTRA, ROW, Lines, extra_columns
from etl.sqltext import literal

#: The typed rows of the file being loaded, in file order (row number = rowid - first + 1).
TYPED = "_staging_typed"
_SUSPECT = "_suspect"
#: Above this a double no longer holds every whole number, and Polars' and DuckDB's casts to
#: a whole number may disagree about rounding: such values take the checked path.
_EXACT = 2**53
#: The characters Polars' `strip_chars()` trims (Unicode's White_Space, as Rust's `trim`):
#: tab to carriage return, U+0085, and the separators (\p{Z}: the space, U+00A0, U+1680,
#: U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000). DuckDB's `trim(x, characters)`
#: takes them too but is ten times slower than two anchored RE2 replacements (measured on
#: 2M rows of 14 columns: 47 s against 5.2 s), and those are skipped where a value starts
#: with a visible ASCII character and ends with no white space (3.1 s; `trim(x)`, 2.9 s).
#: tests/unit/test_ingest_values.py checks the class against Polars on every character.
_WHITE_SPACE = r"[\t\n\x0b\x0c\r\x{85}\p{Z}]"
#: Characters Polars' and DuckDB's JSON writers escape differently (\u001f against \u001F):
#: an extra value holding one makes its row suspect.
_ESCAPED_APART = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"
_CONTROL = re.compile(_ESCAPED_APART)


@dataclass
class Ingested:
    """A file typed in DuckDB: its row count and which rows are suspect."""

    rows: int
    #: The row id of the file's first row.
    first: int
    #: The row numbers of the suspect rows.
    suspects: pl.Series
    #: Columns beyond the contract dropped because they could identify a person.
    dropped: list[str] = field(default_factory=list)


def enabled() -> bool:
    """False when CXKPI_INGEST=checked asks for every row to be checked the slow way."""
    return settings.INGEST.get() != "checked"


def plain(path: Path, source: Source, columns: list[str], lines: Lines) -> bool:
    """True when the file can be typed in DuckDB with the same result as etl/loading/read.py."""
    return (
        enabled()
        and path.suffix.lower() == ".csv"
        and lines.lines > 1
        and len(set(columns)) == len(columns)
        and not any(_CONTROL.search(c) for c in columns)
    )


def ingest(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: Source,
    columns: list[str],
    department_ids: frozenset[str],
    lines: Lines,
) -> Ingested | None:
    """Type the file into TYPED and say which rows are suspect; None when the file must take
    the checked path (nothing is left behind then). Runs outside a transaction: a DuckDB
    error aborts the transaction it happens in."""
    parquet = path.suffix.lower() == ".parquet" and enabled() and len(set(columns)) == len(columns)
    if parquet:
        read = parquet_read(con, path, source, columns)
        if read is None:
            return None
        query = typed_select(source, columns, department_ids, "all", *read)
    elif plain(path, source, columns, lines):
        trim = "all" if lines.odd_space else "spaces" if lines.padded else None
        query = typed_select(source, columns, department_ids, trim=trim)
    else:
        return None
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {TYPED} AS {query}", {"path": str(path)})
    except duckdb.Error:  # DuckDB's reader gave up (mixed line ends, ...): Polars reads it
        drop(con)
        return None
    # Rows keep the file's order; their row ids count on from where the table's storage
    # starts (a large number inside a transaction), so the first row's id is row 1.
    rows, first, last = con.execute(
        f"SELECT count(*), min(rowid), max(rowid) FROM {TYPED}"
    ).fetchall()[0]
    lines_agree = parquet or rows == lines.lines - 1
    if not lines_agree or (rows and last - first + 1 != rows):
        drop(con)  # a line that is not one row: Polars reads the file and says why
        return None
    suspects = con.sql(
        f"SELECT rowid - {first - 1} AS {ROW} FROM {TYPED} WHERE {_SUSPECT} ORDER BY rowid"
    ).pl()[ROW]
    if len(suspects) * 3 > rows:  # a third suspect: checking the whole file is as quick
        drop(con)
        return None
    _, dropped = extra_columns(source, [c for c in columns if c not in source.column_names])
    return Ingested(rows, first, suspects.cast(pl.Int64), dropped)


def good_rows(typed: Ingested) -> str:
    """The rows of TYPED that are not suspect, as the checked path's typed frames look."""
    return (
        f"SELECT rowid - {typed.first - 1} AS {ROW}, * EXCLUDE ({_SUSPECT})"
        f" FROM {TYPED} WHERE NOT {_SUSPECT}"
    )


def drop(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"DROP TABLE IF EXISTS {TYPED}")


#: A Parquet column's types whose text, as DuckDB casts it, types to the value Polars types
#: from its own text (etl/loading/read.py's _as_text), per contract type. Doubles: both write
#: a shortest round-trip form, so the text differs ('1e-08' against '1e-8') but never the
#: number; floats and decimals do not round-trip alike and are left to Polars. A text
#: column's value is its text, so only types both write alike may feed one.
_WHOLE = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
_PARQUET_TYPES = {
    "str": ("VARCHAR", "BOOLEAN", "DATE", *_WHOLE, "UBIGINT", "HUGEINT"),
    "number": ("VARCHAR", "DOUBLE", *_WHOLE, "UBIGINT", "HUGEINT"),
    "int": ("VARCHAR", "DOUBLE", *_WHOLE, "UBIGINT", "HUGEINT"),
    "bool": ("VARCHAR", "BOOLEAN", *_WHOLE),
    "date": ("VARCHAR", "DATE"),
    # A timestamp is typed as it is (Polars' text of it reads back to the same microsecond);
    # one with a time zone or in nanoseconds is left to Polars.
    "timestamp": ("VARCHAR", "TIMESTAMP"),
}


def parquet_read(
    con: duckdb.DuckDBPyConnection, path: Path, source: Source, columns: list[str]
) -> tuple[str, set[str]] | None:
    """What typed_select reads from a Parquet export: each column as text (timestamps also
    as they are), and the timestamp columns typed as they are; None when a column's type
    is one DuckDB's text of would type apart from Polars' (the file takes the checked path)."""
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet($path)", {"path": str(path)})
        schema = [(name, kind) for name, kind, *_ in described.fetchall()]
    except duckdb.Error:
        return None
    if [column_name(n) for n, _ in schema] != columns:
        return None
    kinds = {c.name: c.type for c in source.columns}
    extras, _ = extra_columns(source, [c for c in columns if c not in kinds])
    selected, native = [], set()
    for (name, physical), column in zip(schema, columns, strict=True):
        if column not in kinds and column not in extras:
            continue  # dropped: it could identify a person
        if physical not in _PARQUET_TYPES[kinds.get(column, "str")]:
            return None
        selected.append(f"CAST({_q(name)} AS VARCHAR) AS {_q(column)}")
        if physical == "TIMESTAMP" and kinds.get(column) == "timestamp":
            selected.append(f"{_q(name)} AS {_q('_n_' + column)}")
            native.add(column)
    return f"(SELECT {', '.join(selected)} FROM read_parquet($path))", native


def typed_select(
    source: Source,
    columns: list[str],
    department_ids: frozenset[str],
    trim: str | None = "all",
    read: str | None = None,
    native: set[str] = frozenset(),
) -> str:
    """The query that reads the file ($path), types it and marks suspect rows.

    read: what to read instead of the CSV file (parquet_read's text of a Parquet export),
    and native: its columns typed as they are (in `_n_<name>`).

    trim: "all" trims every white-space character, "spaces" the space only (no other white
    space occurs, Lines.odd_space), None nothing (no value starts or ends with a space,
    Lines.padded).
    """
    present = [c for c in source.columns if c.name in columns]
    extras, _ = extra_columns(source, [c for c in columns if c not in source.column_names])
    types = ", ".join(f"{literal(name)}: 'VARCHAR'" for name in columns)
    read = read or (
        f"read_csv($path, columns = {{{types}}}, header = true, auto_detect = false, delim = ',',"
        " quote = '\"', escape = '\"', allow_quoted_nulls = false, strict_mode = true,"
        " null_padding = false, ignore_errors = true)"
    )
    trimmed = ", ".join(
        [
            f"nullif({trim_sql(_q(name), trim)}, '') AS {_q('_v_' + name)}"
            for name in columns
            if name in source.column_names or name in extras
        ]
        + [_q("_n_" + name) for name in sorted(native)]
    )
    typed = [
        f"{_q('_n_' + c.name) if c.name in native else value_sql(c.type, _q('_v_' + c.name))}"
        f" AS {_q(c.name)}"
        for c in present
    ]
    typed += [f"NULL::{c.duckdb_type} AS {_q(c.name)}" for c in source.columns if c not in present]
    extra = (
        "json_object("
        + ", ".join(f"{literal(name)}, {_q('_v_' + name)}" for name in extras)
        + ")::VARCHAR"
        if extras
        else "NULL::VARCHAR"
    )
    flags = suspect_flags(source, present, department_ids)
    flags += [f"regexp_matches({_q('_v_' + name)}, '{_ESCAPED_APART}')" for name in extras]
    suspect = " OR ".join(f"coalesce({flag}, false)" for flag in flags) or "false"
    names = ", ".join(_q(c.name) for c in source.columns)
    return (
        f"SELECT {names}, {extra} AS {EXTRA}, {suspect} AS {_SUSPECT}"
        f" FROM (SELECT *, {', '.join(typed)} FROM (SELECT {trimmed} FROM {read}))"
    )


def trim_sql(value: str, trim: str | None = "all") -> str:
    """SQL trimming a text value as Polars' `strip_chars()` does (see typed_select's trim)."""
    if trim == "all":  # most values start with a visible ASCII character and end with none
        return (
            f"CASE WHEN ascii({value}) BETWEEN 33 AND 126"
            f" AND NOT regexp_matches({value}, '{_WHITE_SPACE}$') THEN {value}"
            f" ELSE regexp_replace(regexp_replace({value}, '^{_WHITE_SPACE}+', ''),"
            f" '{_WHITE_SPACE}+$', '') END"
        )
    return f"trim({value})" if trim == "spaces" else value


def value_sql(kind: str, value: str) -> str:
    """SQL typing a trimmed text value (NULL when empty) as loading/read.py types it, or NULL."""
    if kind == "str":
        return value
    # DuckDB reads 1_000 as a thousand; Polars does not read it as a number.
    number = f"CASE WHEN NOT contains({value}, '_') THEN TRY_CAST({value} AS DOUBLE) END"
    if kind == "number":
        return number
    if kind == "int":
        return (
            f"CASE WHEN {number} = floor({number}) AND abs({number}) < {_EXACT}"
            f" THEN TRY_CAST({number} AS BIGINT) END"
        )
    if kind == "bool":
        lowered = f"lower({value})"
        return (
            f"CASE WHEN {_one_of(lowered, BOOLEAN_TRUE)} THEN true"
            f" WHEN {_one_of(lowered, BOOLEAN_FALSE)} THEN false END"
        )
    if kind == "date":
        return f"CASE WHEN length({value}) = 10 THEN try_strptime({value}, '%Y-%m-%d')::DATE END"
    # The usual shapes only (T or a space between date and time, whole seconds); any other
    # takes the checked path, which tries them all.
    return (
        f"CASE WHEN length({value}) = 19 AND {value}[11] = 'T'"
        f" THEN try_strptime({value}, '%Y-%m-%dT%H:%M:%S')"
        f" WHEN length({value}) = 19 AND {value}[11] = ' '"
        f" THEN try_strptime({value}, '%Y-%m-%d %H:%M:%S') END"
    )


def suspect_flags(
    source: Source, present: list[Column], department_ids: frozenset[str]
) -> list[str]:
    """One SQL condition per way a row could be rejected (etl/validate.rules_for, in SQL)."""
    flags = []
    names = {c.name for c in present}
    for c in present:
        typed, text = _q(c.name), _q("_v_" + c.name)
        if c.type != "str":
            flags.append(f"({text} IS NOT NULL AND {typed} IS NULL)")
        if c.type == "number":
            flags.append(f"NOT isfinite({typed})")
        if c.must_have_value:
            flags.append(f"{typed} IS NULL")
        if c.min is not None:
            flags.append(f"{typed} {'<=' if c.min_exclusive else '<'} {c.min!r}")
        if c.max is not None:
            flags.append(f"{typed} > {c.max!r}")
        if c.allowed is not None:
            flags.append(f"NOT {_one_of(typed, c.allowed)}")
        if c.references_departments:
            known = department_ids | ({ALL_DEPARTMENTS} if c.allow_all_departments else set())
            unknown = f"NOT {_one_of(typed, sorted(known))}" if known else f"{typed} IS NOT NULL"
            flags.append(unknown)
        if c.not_above and c.not_above in names:
            flags.append(f"{typed} > {_q(c.not_above)}")
        if c.empty_when and c.empty_when[0] in names:
            other, value = c.empty_when
            flags.append(f"({typed} IS NOT NULL AND {_q(other)} = {literal(value)})")
    if source.at_least_one_of:
        answers = [_q(n) for n in source.at_least_one_of if n in names]
        flags.append(f"coalesce({', '.join(answers)}) IS NULL" if answers else "true")
    return flags


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one_of(value: str, values) -> str:
    """value is one of values, as a chain of equalities: DuckDB turns an IN list into a join,
    and a join does not keep the rows in file order (their row numbers come from it)."""
    return "(" + " OR ".join(f"{value} = {literal(str(v))}" for v in values) + ")"
