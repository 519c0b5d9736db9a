"""Load exports into the raw layer: each row loaded or quarantined, each file in one transaction."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import polars as pl

from etl.contract.profiles import FILTERED, Profile
from etl.contract.profiles import SUFFIXES as PROFILE_SUFFIXES
from etl.contract.profiles import problems as profile_problems
from etl.contract.sources import DEPARTMENTS, SOURCES, Source
from etl.errors import CxkpiError, FileRefused
from etl.loading.dialect import PLAIN, Stated, detect, readable
from etl.loading.expectations import validate
from etl.loading.ingest import drop as drop_typed
from etl.loading.ingest import good_rows, ingest
from etl.loading.read import (
    ROW,
    SUFFIXES,
    Scan,
    check_columns,
    check_line_lengths,
    detect_source,
    header,
    parse,
    raw_records,
    read_rows,
    scan_file,
    text_chunks,
)
from etl.sqltext import literal
from etl.warehouse.publish import LOAD_RUN_COLUMNS

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
    rows_filtered: int = 0

    @property
    def ok(self) -> bool:
        """True when every row of the file was loaded (or it was already loaded)."""
        return self.status in ("loaded", "unchanged", "valid")

    def summary(self) -> str:
        """One line for the terminal."""
        counts = (
            f"{self.rows_read} read, {self.rows_loaded} loaded, {self.rows_quarantined} quarantined"
        )
        if self.rows_filtered:
            counts += f", {self.rows_filtered} set aside by the profile"
        text = f"{self.path}: {self.status}"
        if self.status not in ("refused", "unchanged"):
            text += f" ({counts})"
        return f"{text}: {self.message}" if self.message else text


@dataclass
class Staged:
    """A file read chunk by chunk: good rows in Parquet files, rejected rows in a table."""

    rows_read: int
    dropped_columns: list[str]
    #: Export rows a profile's filters set aside, by reason (not read into the contract).
    filtered: dict[str, int] = field(default_factory=dict)
    profile: Profile | None = None
    #: What was assumed or noticed about the file: its encoding or delimiter, a column
    #: mixing day/month orders.
    notices: list[str] = field(default_factory=list)
    #: The file the rows were read from: the file itself, or its UTF-8 comma copy.
    read_from: Path | None = None

    @property
    def rows_filtered(self) -> int:
        return sum(self.filtered.values())

    def set_aside(self) -> str:
        """The rows the profile's filters set aside, in words ('' when none)."""
        if not self.filtered:
            return ""
        reasons = ", ".join(f"{reason} x{n}" for reason, n in self.filtered.items())
        return f"set aside by the profile: {reasons}"


#: Good rows of the file being loaded (a view over the chunks' Parquet files minus rejected rows).
INCOMING = "_staging_incoming"
#: Rejected rows of the file being loaded, with the rule broken and the text as sent.
REJECTED = "_staging_rejected"
_STAGED = "_staging_good"
_REJECTED_SCHEMA = {
    ROW: pl.Int64,
    "column": pl.String,
    "rule": pl.String,
    "message": pl.String,
    "problems": pl.String,
    "raw_record": pl.String,
}


def collect(
    paths: Iterable[str | Path], source: str | None = None, profile: Profile | None = None
) -> list[tuple[Path, str | None]]:
    """The files named by paths (folders searched recursively), departments first.

    With a profile, every file is an export it reads (.csv, .tsv, .txt, .xlsx, .parquet).
    """
    if source is not None and source not in SOURCES:
        raise CxkpiError(f"unknown source '{source}' (expected one of {', '.join(SOURCES)})")
    suffixes = PROFILE_SUFFIXES if profile else SUFFIXES
    found: list[Path] = []
    for item in map(Path, paths):
        if not item.exists():
            raise CxkpiError(f"{item}: no such file or folder")
        if item.is_dir():
            found.extend(
                sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)
            )
        else:
            found.append(item)
    if not found:
        kinds = " or ".join(suffixes)
        raise CxkpiError(f"no {kinds} files found in " + ", ".join(map(str, paths)))
    order = list(SOURCES)

    def rank(path: Path) -> tuple[int, str]:
        name = source or next((n for n in (path.parent.name, path.stem) if n in SOURCES), None)
        return (order.index(name) if name else len(order), str(path))

    return [(p, source) for p in sorted(dict.fromkeys(found), key=rank)]


def stage(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source: Source,
    department_ids: frozenset[str],
    folder: Path,
    report: Reporter | None = None,
    profile: Profile | None = None,
    stated: Stated | None = None,
    scanned: Scan | None = None,
) -> Staged:
    """Read, type and validate a file chunk by chunk into folder, then apply the file's key rules.

    Chunks go to Parquet files rather than into DuckDB one by one: memory stays bounded by the
    chunk, and the warehouse takes the file in one INSERT (see docs/architecture.md). A contract
    file in another encoding or delimiter (stated, or detected) is read from a UTF-8 comma copy
    in folder (etl/loading/dialect.py). scanned: the file's one pass over its bytes, when
    the caller made it (load_file, which hashes the file in it).
    """
    say = report or (lambda *_: None)
    say(str(path), "reading", 0)
    assumed = PLAIN if profile else detect(path, source, stated, scanned)
    read_from = readable(path, assumed, folder)
    if scanned and scanned.refusal:
        raise FileRefused(path, scanned.refusal)
    if scanned and scanned.lines and read_from == path:
        lines = scanned.lines
    else:
        lines = check_line_lengths(read_from)
    columns = header(read_from, profile)
    check_columns(path, source, columns)
    typed = None if profile else ingest(con, read_from, source, columns, department_ids, lines)
    if typed is not None:
        say(str(path), "typed", typed.rows)
        chunks = text_chunks(read_from, only=typed.suspects) if typed.suspects.len() else []
    else:
        chunks = text_chunks(read_from, profile=profile)
    rows, dropped, filtered, checked = 0, [], {}, []
    pl.DataFrame(schema=_REJECTED_SCHEMA).write_parquet(folder / "rejected-empty.parquet")
    for index, chunk in enumerate(chunks):
        if FILTERED in chunk.columns:
            for reason, n in chunk.group_by(FILTERED).len().drop_nulls(FILTERED).iter_rows():
                filtered[reason] = filtered.get(reason, 0) + n
            chunk = chunk.filter(pl.col(FILTERED).is_null()).drop(FILTERED)
        found, chunk = profile_problems(chunk)
        parsed = parse(path, source, chunk)
        # A value the profile already found wrong is quarantined under the profile's rule.
        typing = parsed.errors.join(found, on=[ROW, "column"], how="anti")
        checks = validate(source, parsed.typed, department_ids)
        problems = pl.concat([found, typing, checks])
        rejected = rejected_rows(parsed.text, problems)
        good = parsed.typed
        if not rejected.is_empty():
            good = good.join(rejected.select(ROW), on=ROW, how="anti")
        good.write_parquet(folder / f"good-{index:06d}.parquet")
        rejected.write_parquet(folder / f"rejected-{index:06d}.parquet")
        rows += chunk.height
        dropped = parsed.dropped_columns
        checked = [f"FROM read_parquet({literal(str(folder / 'good-*.parquet'))})"]
        say(str(path), "validated", rows + sum(filtered.values()))
    if typed is not None:
        rows = typed.rows
        dropped = typed.dropped
        checked.append(good_rows(typed))
    rejected_files = literal(str(folder / "rejected-*.parquet"))
    con.execute(f"CREATE OR REPLACE TEMP VIEW {_STAGED} AS {' UNION ALL BY NAME '.join(checked)}")
    con.execute(f"CREATE OR REPLACE TABLE {REJECTED} AS FROM read_parquet({rejected_files})")
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {INCOMING} AS"
        f" FROM {_STAGED} ANTI JOIN {REJECTED} USING ({ROW})"
    )
    _reject_keys(con, source, _duplicates_in_file(source), "unique")
    filtered = dict(sorted(filtered.items(), key=lambda item: (-item[1], item[0])))
    notices = profile.notices(path) if profile else list(assumed.notices)
    return Staged(rows, dropped, filtered, profile, notices, read_from)


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Remove the staging objects of the last file."""
    con.execute(f"DROP VIEW IF EXISTS {INCOMING}")
    con.execute(f"DROP VIEW IF EXISTS {_STAGED}")
    con.execute(f"DROP TABLE IF EXISTS {REJECTED}")
    drop_typed(con)


def rejected_rows(text: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """One row per rejected row: its first problem, all its problems and what was sent (text:
    the rows as read, with at least the rejected ones)."""
    if problems.is_empty():
        return pl.DataFrame(schema=_REJECTED_SCHEMA)
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
    records = raw_records(text, grouped[ROW])
    return grouped.join(records, on=ROW, how="left").select(list(_REJECTED_SCHEMA))


def _key_sql(source: Source) -> tuple[str, str]:
    keys = ", ".join(source.key)
    return keys, " AND ".join(f"{k} IS NOT NULL" for k in source.key)


def _duplicates_in_file(source: Source) -> str:
    keys, present = _key_sql(source)
    return (
        f"SELECT {ROW}, '{keys} appears more than once in the file' AS message FROM {INCOMING}"
        f" WHERE {present} QUALIFY count(*) OVER (PARTITION BY {keys}) > 1"
    )


def _duplicates_across_files(source: Source) -> str:
    keys, _ = _key_sql(source)
    on = " AND ".join(f"i.{k} = r.{k}" for k in source.key)
    return (
        f"SELECT i.{ROW}, '{keys} already loaded from ' || any_value(r._file) AS message"
        f" FROM {INCOMING} i JOIN {source.raw_table} r ON {on} GROUP BY i.{ROW}"
    )


def _reject_keys(con, source: Source, offenders: str, rule: str) -> None:
    """Reject staged rows that break a whole-file key rule (INCOMING then leaves them out)."""
    keys, _ = _key_sql(source)
    con.execute(
        f"INSERT INTO {REJECTED} SELECT {ROW}, '{keys}', '{rule}', message,"
        f" message || ' ({rule})', NULL FROM ({offenders})"
    )


def _fill_raw_records(con, path: Path, source: Source, profile: Profile | None) -> None:
    """Rows rejected by whole-file rules get their text by re-reading just those rows."""
    missing = con.sql(f"SELECT {ROW} FROM {REJECTED} WHERE raw_record IS NULL").pl()
    if missing.is_empty():
        return
    records = raw_records(read_rows(path, source, missing[ROW], profile), missing[ROW])
    con.register("records", records.to_arrow())
    con.execute(
        f"UPDATE {REJECTED} SET raw_record = records.raw_record FROM records"
        f" WHERE {REJECTED}.{ROW} = records.{ROW}"
    )
    con.unregister("records")


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


def journal_entry(path: Path, source_name: str | None) -> dict:
    """How the writer's journal names a file about to be loaded (etl/warehouse/publish.py)."""
    try:
        source = detect_source(path, source_name)
    except FileRefused:
        return {"file": str(path), "file_key": path.name, "source": source_name}
    return {"file": str(path), "file_key": file_key(path, source), "source": source.name}


def load_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    source_name: str | None,
    report: Reporter | None = None,
    profile: Profile | None = None,
    stated: Stated | None = None,
) -> FileResult:
    """Load one file into its raw table in one transaction; refusals are recorded, not raised.

    With a mapping profile the file is an export in the profile's shape; it feeds the
    profile's source, and loading it again with a changed profile replaces its rows. stated:
    the encoding and delimiter of a contract file, where the command line named them.
    """
    started = datetime.now()
    try:
        source = _source(path, source_name, profile)
    except FileRefused as refused:
        return FileResult(path, source_name, "refused", message=refused.reason)
    scanned = scan_file(path) if path.is_file() else None
    digest = scanned.digest if scanned else ""
    key = file_key(path, source)
    same = previous_load(con, digest, profile)
    if same and same[1] == key:
        return unchanged(path, source, same)
    if same:
        return _refuse(con, path, source, key, digest, started, loaded_as(same), profile)
    # Staging touches only staging objects, so it runs before the file's transaction: a
    # DuckDB error in the typed ingest can then hand the file to the checked path (an error
    # inside a transaction would abort it).
    began = False
    try:
        with tempfile.TemporaryDirectory(prefix="cxkpi-stage-") as folder:
            staged = stage(
                con,
                path,
                source,
                department_ids(con),
                Path(folder),
                report,
                profile,
                stated,
                scanned,
            )
            con.begin()
            began = True
            result = _store(con, path, source, key, digest, started, staged)
            drop_staging(con)
    except FileRefused as refused:
        _abandon(con, began)
        return _refuse(con, path, source, key, digest, started, refused.reason, profile)
    except BaseException:
        _abandon(con, began)
        raise
    con.commit()
    return result


def _abandon(con: duckdb.DuckDBPyConnection, began: bool) -> None:
    """Roll back the file's transaction, if it began, and drop what was staged."""
    if began:
        con.rollback()
    drop_staging(con)


def unchanged(path: Path, source: Source, same: tuple[int, str]) -> FileResult:
    """A file identical to its own live load (same = previous_load(...)): nothing to do."""
    return FileResult(
        path, source.name, "unchanged", message=f"identical to load #{same[0]}; nothing changed"
    )


def loaded_as(same: tuple[int, str]) -> str:
    """Why a file identical to another file's live load is refused."""
    return f"identical content was already loaded as {same[1]} (load #{same[0]})"


def _source(path: Path, source_name: str | None, profile: Profile | None) -> Source:
    if profile is None:
        return detect_source(path, source_name)
    if source_name not in (None, profile.source.name):
        raise FileRefused(
            path, f"profile {profile.name} feeds '{profile.source.name}', not '{source_name}'"
        )
    return profile.source


def previous_load(
    con: duckdb.DuckDBPyConnection, digest: str, profile: Profile | None = None
) -> tuple[int, str] | None:
    return con.execute(
        "SELECT load_id, file_key FROM meta_load_runs WHERE sha256 = $sha AND superseded_by IS NULL"
        " AND status IN ('loaded', 'quarantined') AND profile IS NOT DISTINCT FROM $profile"
        " ORDER BY load_id DESC LIMIT 1",
        {"sha": digest, "profile": profile.label if profile else None},
    ).fetchone()


def next_load_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM meta_load_runs").fetchone()[0]


def _refuse(
    con,
    path: Path,
    source: Source,
    key: str,
    digest: str,
    started: datetime,
    reason: str,
    profile: Profile | None = None,
) -> FileResult:
    load_id = next_load_id(con)
    staged = Staged(0, [], {}, profile)
    record_run(con, load_id, path, source, key, digest, started, staged, (0, 0), "refused", reason)
    return FileResult(path, source.name, "refused", message=reason, load_id=load_id)


def record_run(
    con,
    load_id: int,
    path: Path,
    source: Source,
    key: str,
    digest: str,
    started: datetime,
    staged: Staged,
    kept: tuple[int, int],
    status: str,
    message: str,
):
    con.execute(
        f"INSERT INTO meta_load_runs ({LOAD_RUN_COLUMNS}, rows_filtered, filtered, profile)"
        " VALUES ($id, $file, $key, $source, $sha, $read, $loaded, $quarantined, $status,"
        " $started, now()::TIMESTAMP, $message, NULL, $filtered, $reasons, $profile)",
        {
            "id": load_id,
            "file": str(path),
            "key": key,
            "source": source.name,
            "sha": digest,
            "read": staged.rows_read,
            "loaded": kept[0],
            "quarantined": kept[1],
            "status": status,
            "started": started,
            "message": message,
            "filtered": staged.rows_filtered,
            "reasons": json.dumps(staged.filtered) if staged.filtered else None,
            "profile": staged.profile.label if staged.profile else None,
        },
    )


def _store(
    con, path: Path, source: Source, key: str, digest: str, started: datetime, staged: Staged
) -> FileResult:
    """Replace the file's earlier rows and move the staged rows into the raw layer."""
    load_id = next_load_id(con)
    replaced = supersede(con, source, key, load_id)
    if not source.replace_all:
        _reject_keys(con, source, _duplicates_across_files(source), "unique_across_files")
    _fill_raw_records(con, staged.read_from or path, source, staged.profile)
    loaded = con.execute(f"SELECT count(*) FROM {INCOMING}").fetchone()[0]
    rejected = con.execute(f"SELECT count(*) FROM {REJECTED}").fetchone()[0]
    if loaded + rejected != staged.rows_read:
        raise RuntimeError(f"{path}: {staged.rows_read} rows read but {loaded} + {rejected} kept")
    con.execute(
        f"INSERT INTO {source.raw_table} BY NAME SELECT *, $id AS _load_id, $key AS _file"
        f" FROM {INCOMING}",
        {"id": load_id, "key": key},
    )
    insert_quarantine(con, source, path, load_id)
    status = "quarantined" if rejected else "loaded"
    message = run_message(con, staged, replaced)
    record_run(
        con,
        load_id,
        path,
        source,
        key,
        digest,
        started,
        staged,
        (loaded, rejected),
        status,
        message,
    )
    return FileResult(
        path,
        source.name,
        status,
        staged.rows_read,
        loaded,
        rejected,
        message=message,
        load_id=load_id,
        rows_filtered=staged.rows_filtered,
    )


def supersede(con, source: Source, key: str, load_id: int) -> int:
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


def insert_quarantine(con, source: Source, path: Path, load_id: int) -> None:
    con.execute(
        f'INSERT INTO meta_quarantine SELECT $id, $source, $file, {ROW}, "column", rule,'
        f" message, problems, raw_record::JSON FROM {REJECTED} ORDER BY {ROW}",
        {"id": load_id, "source": source.name, "file": str(path)},
    )


def run_message(con, staged: Staged, replaced: int) -> str:
    parts = []
    first = con.execute(
        f'SELECT {ROW}, "column", message FROM {REJECTED} ORDER BY {ROW} LIMIT 1'
    ).fetchone()
    if first:
        top = con.execute(
            f'SELECT "column", rule, count(*) AS n FROM {REJECTED} GROUP BY ALL'
            ' ORDER BY n DESC, rule, "column" LIMIT 3'
        ).fetchall()
        parts.append(f"first: row {first[0]}, column {first[1]}: {first[2]}")
        parts.append("by rule: " + ", ".join(f"{c}/{r} x{n}" for c, r, n in top))
    if staged.filtered:
        parts.append(staged.set_aside())
    parts.extend(staged.notices)
    if staged.dropped_columns:
        parts.append("dropped (could identify a person): " + ", ".join(staged.dropped_columns))
    if staged.profile and staged.profile.drop:
        parts.append(f"{len(staged.profile.drop)} personal column(s) dropped by the profile")
    if replaced:
        parts.append("replaces the earlier load of this file")
    return "; ".join(parts)
