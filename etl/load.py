"""Load exports into the raw layer: each row loaded or quarantined, each file in one transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from etl.contract import DEPARTMENTS, SOURCES, Source
from etl.errors import CxkpiError, FileRefused
from etl.read import (
    EXTRA,
    ROW,
    SUFFIXES,
    Parsed,
    detect_source,
    parse,
    read_text_frame,
)
from etl.validate import validate

Reporter = Callable[[str, str, int], None]


@dataclass
class FileResult:
    """What happened to one file: the summary line a user sees and the load_runs row."""

    path: Path
    source: str | None
    status: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    message: str = ""
    load_id: int | None = None

    @property
    def ok(self) -> bool:
        """True when every row of the file was loaded (or it was already loaded)."""
        return self.status in ("loaded", "unchanged", "valid")

    def summary(self) -> str:
        """One line for the terminal."""
        counts = (
            f"{self.rows_read} read, {self.rows_loaded} loaded, {self.rows_quarantined} quarantined"
        )
        text = f"{self.path}: {self.status}"
        if self.status not in ("refused", "unchanged"):
            text += f" ({counts})"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class Prepared:
    """A file read, typed and validated: the rows to load and the rows to quarantine."""

    parsed: Parsed
    good: pl.DataFrame
    quarantine: pl.DataFrame

    @property
    def rows_read(self) -> int:
        """Data rows in the file."""
        return self.parsed.typed.height


def collect(
    paths: Iterable[str | Path], source: str | None = None
) -> list[tuple[Path, str | None]]:
    """The files named by paths (folders searched recursively), departments first."""
    if source is not None and source not in SOURCES:
        raise CxkpiError(f"unknown source '{source}' (expected one of {', '.join(SOURCES)})")
    found: list[Path] = []
    for item in map(Path, paths):
        if not item.exists():
            raise CxkpiError(f"{item}: no such file or folder")
        if item.is_dir():
            found.extend(
                sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
            )
        else:
            found.append(item)
    if not found:
        raise CxkpiError("no .csv or .parquet files found in " + ", ".join(map(str, paths)))
    order = list(SOURCES)

    def rank(path: Path) -> tuple[int, str]:
        name = source or next((n for n in (path.parent.name, path.stem) if n in SOURCES), None)
        return (order.index(name) if name else len(order), str(path))

    return [(p, source) for p in sorted(dict.fromkeys(found), key=rank)]


def prepare(
    path: Path, source: Source, department_ids: frozenset[str], report: Reporter | None = None
) -> Prepared:
    """Read, normalise and validate one file without touching the warehouse."""
    say = report or (lambda *_: None)
    say(str(path), "reading", 0)
    parsed = parse(path, source, read_text_frame(path))
    say(str(path), "validating", parsed.typed.height)
    failures = validate(
        source,
        parsed.typed,
        department_ids,
        on_batch=lambda i, n, rows: say(str(path), f"validated batch {i}/{n}", rows),
    )
    problems = pl.concat([parsed.errors, failures])
    quarantine = _quarantine_rows(parsed, problems)
    if quarantine.is_empty():
        return Prepared(parsed, parsed.typed, quarantine)
    good = parsed.typed.join(quarantine.select(ROW), on=ROW, how="anti")
    return Prepared(parsed, good, quarantine)


def _quarantine_rows(parsed: Parsed, problems: pl.DataFrame) -> pl.DataFrame:
    if problems.is_empty():
        return pl.DataFrame(
            schema={
                ROW: pl.Int64,
                "column": pl.String,
                "rule": pl.String,
                "message": pl.String,
                "problems": pl.String,
                "raw_record": pl.String,
            }
        )
    grouped = (
        problems.with_columns(pl.format("{} ({})", "message", "rule").alias("problem"))
        .group_by(ROW, maintain_order=True)
        .agg(
            pl.first("column"),
            pl.first("rule"),
            pl.first("message"),
            pl.col("problem").str.join("; ").alias("problems"),
        )
    )
    return grouped.join(parsed.raw_records(grouped[ROW]), on=ROW, how="left").sort(ROW)


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_key(path: Path, source: Source) -> str:
    """A file's identity across reloads: its source and file name (a corrected file keeps it)."""
    return f"{source.name}/{path.name}"


def department_ids(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """Department ids currently in the warehouse."""
    rows = con.execute(f"SELECT department_id FROM {DEPARTMENTS.raw_table}").fetchall()
    return frozenset(r[0] for r in rows)


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source_name: str | None,
    report: Reporter | None = None,
) -> FileResult:
    """Load one file into its raw table in one transaction; refusals are recorded, not raised."""
    started = datetime.now()
    try:
        source = detect_source(path, source_name)
    except FileRefused as refused:
        return FileResult(path, source_name, "refused", message=refused.reason)
    digest = sha256(path) if path.exists() else ""
    key = file_key(path, source)
    same = _previous(con, digest)
    if same and same[1] == key:
        return FileResult(
            path, source.name, "unchanged", message=f"identical to load #{same[0]}; nothing changed"
        )
    if same:
        return _refuse(
            con,
            path,
            source,
            key,
            digest,
            started,
            f"identical content was already loaded as {same[1]} (load #{same[0]})",
        )
    try:
        prepared = prepare(path, source, department_ids(con), report)
    except FileRefused as refused:
        return _refuse(con, path, source, key, digest, started, refused.reason)
    return _store(con, path, source, key, digest, started, prepared)


def _previous(con: duckdb.DuckDBPyConnection, digest: str) -> tuple[int, str] | None:
    return con.execute(
        "SELECT load_id, file_key FROM meta_load_runs WHERE sha256 = $sha AND superseded_by IS NULL"
        " AND status IN ('loaded', 'quarantined') ORDER BY load_id DESC LIMIT 1",
        {"sha": digest},
    ).fetchone()


def _next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM meta_load_runs").fetchone()[0]


def _refuse(
    con, path: Path, source: Source, key: str, digest: str, started: datetime, reason: str
) -> FileResult:
    load_id = _next_load_id(con)
    _record_run(con, load_id, path, source, key, digest, started, (0, 0, 0), "refused", reason)
    return FileResult(path, source.name, "refused", message=reason, load_id=load_id)


def _record_run(
    con,
    load_id: int,
    path: Path,
    source: Source,
    key: str,
    digest: str,
    started: datetime,
    counts: tuple[int, int, int],
    status: str,
    message: str,
):
    con.execute(
        "INSERT INTO meta_load_runs VALUES ($id, $file, $key, $source, $sha, $read, $loaded,"
        " $quarantined, $status, $started, now()::TIMESTAMP, $message, NULL)",
        {
            "id": load_id,
            "file": str(path),
            "key": key,
            "source": source.name,
            "sha": digest,
            "read": counts[0],
            "loaded": counts[1],
            "quarantined": counts[2],
            "status": status,
            "started": started,
            "message": message,
        },
    )


def _store(
    con, path: Path, source: Source, key: str, digest: str, started: datetime, prepared: Prepared
) -> FileResult:
    con.begin()
    try:
        load_id = _next_load_id(con)
        replaced = _supersede(con, source, key, load_id)
        good, duplicates = _split_cross_file_duplicates(con, source, key, prepared)
        quarantine = pl.concat([prepared.quarantine, duplicates]).sort(ROW)
        _insert_rows(con, source, key, load_id, good)
        _insert_quarantine(con, source, path, load_id, quarantine)
        counts = (prepared.rows_read, good.height, quarantine.height)
        status = "quarantined" if quarantine.height else "loaded"
        message = _message(prepared, quarantine, replaced)
        _record_run(con, load_id, path, source, key, digest, started, counts, status, message)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return FileResult(path, source.name, status, *counts, message=message, load_id=load_id)


def _supersede(con, source: Source, key: str, load_id: int) -> int:
    """Remove rows of earlier loads this file replaces; the number of earlier loads replaced."""
    if source.replace_all:
        con.execute(f"DELETE FROM {source.raw_table}")
        where = "source = $source"
        params = {"source": source.name, "id": load_id}
    else:
        con.execute(f"DELETE FROM {source.raw_table} WHERE _file = $key", {"key": key})
        where = "file_key = $key"
        params = {"key": key, "id": load_id}
    return (
        con.execute(
            f"UPDATE meta_load_runs SET superseded_by = $id WHERE {where} AND superseded_by IS NULL"
            " AND status IN ('loaded', 'quarantined') RETURNING load_id",
            params,
        )
        .fetchall()
        .__len__()
    )


def _split_cross_file_duplicates(con, source: Source, key: str, prepared: Prepared):
    """Rows whose natural key was already loaded from another file go to quarantine."""
    good = prepared.good
    if source.replace_all or good.is_empty():
        return good, prepared.quarantine.clear()
    keys = list(source.key)
    con.register("incoming_keys", good.select(ROW, *keys).to_arrow())
    on = " AND ".join(f"i.{k} = r.{k}" for k in keys)
    clash = con.sql(
        f"SELECT i.{ROW}, any_value(r._file) AS other FROM incoming_keys i"
        f" JOIN {source.raw_table} r ON {on} GROUP BY i.{ROW}"
    ).pl()
    con.unregister("incoming_keys")
    if clash.is_empty():
        return good, prepared.quarantine.clear()
    label = ", ".join(keys)
    duplicates = clash.select(
        pl.col(ROW).cast(pl.Int64),
        pl.lit(label).alias("column"),
        pl.lit("unique_across_files").alias("rule"),
        pl.format(f"{label} already loaded from {{}}", "other").alias("message"),
    ).with_columns(pl.format("{} (unique_across_files)", "message").alias("problems"))
    duplicates = duplicates.join(prepared.parsed.raw_records(duplicates[ROW]), on=ROW)
    return good.join(duplicates.select(ROW), on=ROW, how="anti"), duplicates


def _insert_rows(con, source: Source, key: str, load_id: int, good: pl.DataFrame) -> None:
    if good.is_empty():
        return
    con.register("incoming_rows", good.to_arrow())
    columns = ", ".join(source.column_names)
    con.execute(
        f"INSERT INTO {source.raw_table} BY NAME SELECT {columns}, $id AS _load_id,"
        f" $key AS _file, {ROW} AS _row_number, {EXTRA}::JSON AS _extra FROM incoming_rows",
        {"id": load_id, "key": key},
    )
    con.unregister("incoming_rows")


def _insert_quarantine(
    con, source: Source, path: Path, load_id: int, quarantine: pl.DataFrame
) -> None:
    if quarantine.is_empty():
        return
    con.register("incoming_quarantine", quarantine.to_arrow())
    con.execute(
        f'INSERT INTO meta_quarantine SELECT $id, $source, $file, {ROW}, "column", rule,'
        " message, problems, raw_record::JSON FROM incoming_quarantine",
        {"id": load_id, "source": source.name, "file": str(path)},
    )
    con.unregister("incoming_quarantine")


def _message(prepared: Prepared, quarantine: pl.DataFrame, replaced: int) -> str:
    parts = []
    if quarantine.height:
        top = (
            quarantine.group_by("column", "rule")
            .len()
            .sort("len", descending=True)
            .head(3)
            .iter_rows()
        )
        first = quarantine.row(0, named=True)
        parts.append(f"first: row {first[ROW]}, column {first['column']}: {first['message']}")
        parts.append("by rule: " + ", ".join(f"{c}/{r} x{n}" for c, r, n in top))
    if prepared.parsed.dropped_columns:
        parts.append(
            "dropped (could identify a person): " + ", ".join(prepared.parsed.dropped_columns)
        )
    if replaced:
        parts.append("replaces the earlier load of this file")
    return "; ".join(parts)
