"""Board snapshots: a month's figures frozen in the warehouse, and a board pack that never changes.

`take` checks that the month is complete, copies what the board pack shows into
`snapshot_<view>` tables under a new `snapshot_id`, records it in `board_snapshots` with a
fingerprint of the loads that fed it, and renders the pack (PDF and HTML). Nothing already
frozen is ever updated: taking the same month again adds version N+1 and says what changed.
All of it happens in one writing session (etl/warehouse/publish.py): the database and the pack files
appear together or not at all. See docs/board-pack.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from calendar import monthrange
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from etl import files, settings
from etl.errors import CxkpiError
from etl.reporting.formats import format_value
from etl.warehouse.models import query
from etl.warehouse.publish import writing
from etl.warehouse.published_waves import publish_waves

#: Sources that arrive every month (sql/intermediate/int_source_months.sql): a pack needs
#: each loaded.
MONTHLY_SOURCES = ("interactions", "case_tasks", "workforce", "nps_responses")

#: Frozen table -> (live view, which rows of it; $month is the snapshot's month).
FROZEN = {
    "snapshot_department_month": ("department_month", "month <= $month"),
    "snapshot_kpi_headlines": ("kpi_headlines", "channel = 'all' AND month <= $month"),
    "snapshot_kpi_conflicts": ("kpi_conflicts", "true"),
    "snapshot_department_value": ("department_value", "true"),
    "snapshot_ex_cx_linkage": ("ex_cx_linkage", "wave <= $month"),
    "snapshot_initiative_effects": ("initiative_effects", "true"),
    "snapshot_findings": ("findings", "true"),
    "snapshot_source_freshness": ("source_freshness", "true"),
    "snapshot_failure_demand_headline": ("failure_demand_headline", "month <= $month"),
    "snapshot_nps_drivers": ("nps_drivers", "true"),
    "snapshot_failure_demand_month": ("failure_demand_month", "month <= $month"),
    "snapshot_failure_demand_ledger": ("failure_demand_ledger", "true"),
    "snapshot_theme_evidence": ("theme_evidence", "theme_rank <= 3"),
}

BOARD_SNAPSHOTS_DDL = """CREATE TABLE IF NOT EXISTS board_snapshots (
    snapshot_id VARCHAR PRIMARY KEY, month DATE NOT NULL, version INTEGER NOT NULL,
    taken_at TIMESTAMP NOT NULL, taken_by VARCHAR NOT NULL, pdf_path VARCHAR NOT NULL,
    html_path VARCHAR NOT NULL, pdf_sha256 VARCHAR NOT NULL, pdf_pages INTEGER NOT NULL,
    fingerprint VARCHAR NOT NULL, inputs JSON NOT NULL, analyses_from DATE,
    analyses_to DATE, changes VARCHAR NOT NULL, UNIQUE (month, version))"""
#: The pack itself, so the dashboard serves it even where the snapshots folder is not at hand.
PACKS_DDL = """CREATE TABLE IF NOT EXISTS snapshot_packs (
    snapshot_id VARCHAR PRIMARY KEY, pdf BLOB NOT NULL, html VARCHAR NOT NULL)"""


@dataclass(frozen=True)
class Snapshot:
    """What `take` froze and wrote."""

    snapshot_id: str
    month: date
    version: int
    taken_at: datetime
    by: str
    fingerprint: str
    pdf_path: Path
    html_path: Path
    pages: int
    changes: list[str]


def month_name(month: date) -> str:
    """October 2026."""
    return month.strftime("%B %Y")


def default_folder(db_path: Path) -> Path:
    """Where packs go unless told: a snapshots/ folder beside the database."""
    return db_path.parent / "snapshots"


def take(
    db_path: Path,
    month: date,
    out_dir: Path | None = None,
    by: str | None = None,
    today: date | None = None,
    on_stage=None,
) -> Snapshot:
    """Freeze a month's figures and write its board pack; refuse an incomplete month.

    by: who takes it (a signed-in person's name, or `--by`); else CXKPI_SNAPSHOT_BY; else
    no name is recorded (an empty taken_by), never the computer's login account.
    """
    from etl.reporting import pack

    settings.check(settings.SNAPSHOT)
    taker = " ".join((by or "").split()) or settings.SNAPSHOT_BY.get() or ""
    stage = on_stage or (lambda _: None)
    if not db_path.exists():
        raise CxkpiError(f"{db_path}: no database yet; run `cxkpi load` first")
    out_dir = (out_dir or default_folder(db_path)).resolve()
    written: list[Path] = []
    try:
        with writing(db_path) as con:
            stage("checking the month")
            analysed = _check_month(con, month, today or date.today())
            con.execute(BOARD_SNAPSHOTS_DDL)
            con.execute(PACKS_DDL)
            version = (
                1
                + con.execute(
                    "SELECT coalesce(max(version), 0) FROM board_snapshots WHERE month = $m",
                    {"m": month},
                ).fetchall()[0][0]
            )
            snapshot_id = f"{month:%Y-%m}-v{version}"
            inputs = _inputs(con)
            fingerprint = _fingerprint(inputs)
            # Recorded in UTC; shown in the business time zone with its name (format_moment).
            taken_at = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
            con.begin()
            stage("freezing the figures")
            _freeze(con, snapshot_id, month)
            publish_waves(con, snapshot_id, analysed[1])
            changes = _changes(con, month, version, snapshot_id, inputs)
            name = f"cxkpi-board-pack-{month:%Y-%m}-v{version}"
            pdf_path, html_path = out_dir / f"{name}.pdf", out_dir / f"{name}.html"
            row = {
                "id": snapshot_id,
                "month": month,
                "version": version,
                "taken_at": taken_at,
                "by": taker,
                "pdf": str(pdf_path),
                "html": str(html_path),
                "fingerprint": fingerprint,
                "inputs": json.dumps(inputs),
                "from": analysed[0],
                "to": analysed[1],
                "changes": "\n".join(changes),
            }
            con.execute(
                "INSERT INTO board_snapshots VALUES ($id, $month, $version, $taken_at, $by,"
                " $pdf, $html, '', 0, $fingerprint, $inputs, $from, $to, $changes)",
                row,
            )
            stage("rendering the board pack")
            html, pdf, pages = pack.render(con, snapshot_id)
            con.execute(
                "UPDATE board_snapshots SET pdf_sha256 = $sha, pdf_pages = $pages"
                " WHERE snapshot_id = $id",
                {"sha": hashlib.sha256(pdf).hexdigest(), "pages": pages, "id": snapshot_id},
            )
            con.execute(
                "INSERT INTO snapshot_packs VALUES ($id, $pdf, $html)",
                {"id": snapshot_id, "pdf": pdf, "html": html},
            )
            con.commit()
            stage("writing the pack files")
            for path, content in ((pdf_path, pdf), (html_path, html.encode())):
                _write_new(path, content)
                written.append(path)
    except BaseException:
        for path in written:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        raise
    return Snapshot(
        snapshot_id,
        month,
        version,
        taken_at,
        taker,
        fingerprint,
        pdf_path,
        html_path,
        pages,
        changes,
    )


def _write_new(path: Path, content: bytes) -> None:
    """Write a pack file; a file (or link) of that name is never overwritten or followed."""
    files.refuse_link(path)
    if path.exists():
        raise CxkpiError(
            f"{path} already exists: a board pack is never overwritten; move it away or"
            " choose another folder with --out"
        )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_new(path, content)
    except FileExistsError:
        raise CxkpiError(
            f"{path} already exists: a board pack is never overwritten; move it away or"
            " choose another folder with --out"
        ) from None
    except OSError as error:
        raise CxkpiError(
            f"{path}: cannot write the board pack ({error.strerror or error}); nothing was"
            " recorded; choose another folder with --out"
        ) from None


# --- the month must be complete ------------------------------------------------------------


def _check_month(con: duckdb.DuckDBPyConnection, month: date, today: date) -> tuple[date, date]:
    """Refuse a month with no data or still loading; the months the analyses cover."""
    views = {r[0] for r in con.execute("SELECT view_name FROM duckdb_views()").fetchall()} | {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }
    needed = {view for view, _ in FROZEN.values()} | {"month_completeness"}
    if not needed <= views:
        missing = ", ".join(sorted(needed - views))
        raise CxkpiError(f"the warehouse has no views to freeze ({missing}): run `cxkpi build`")
    last_day = month.replace(day=monthrange(month.year, month.month)[1])
    if last_day >= today:
        raise CxkpiError(
            f"{month_name(month)} is not over yet: a board snapshot freezes a finished month"
        )
    freshness = {
        r[0]: (r[1], r[2])
        for r in con.execute(
            "SELECT source, first_month, last_month FROM source_freshness"
        ).fetchall()
    }
    first, last = freshness.get("interactions", (None, None))
    if first is None:
        raise CxkpiError("no interactions are loaded: there is nothing to freeze yet")
    if not first <= month <= last:
        raise CxkpiError(
            f"no data for {month_name(month)}: the months loaded run from"
            f" {month_name(first)} to {month_name(last)}"
        )
    missing = [s for s in MONTHLY_SOURCES if freshness.get(s, (None, None))[0] is None]
    if missing:
        raise CxkpiError(
            f"{month_name(month)} cannot be frozen: {', '.join(missing)} (none loaded); a board"
            " pack needs every monthly source, load them, then take the snapshot"
        )
    # The dashboard's reporting month rests on the same model (month_completeness).
    complete, shortfall = con.execute(
        "SELECT is_complete, incomplete_sources FROM month_completeness WHERE month = $m",
        {"m": month},
    ).fetchall()[0]
    if not complete:
        raise CxkpiError(
            f"{month_name(month)} is still loading: {shortfall}; load the rest of the"
            " month, then take the snapshot"
        )
    return first, last


# --- inputs and their fingerprint -----------------------------------------------------------


def _inputs(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The file loads the live views rest on: one entry per current file, in file order."""
    rows = con.execute(
        "SELECT file_key, source, sha256, rows_loaded, rows_quarantined FROM load_runs"
        " WHERE is_current ORDER BY file_key"
    ).fetchall()
    keys = ("file", "source", "sha256", "rows_loaded", "rows_quarantined")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def _fingerprint(inputs: list[dict]) -> str:
    """sha256 over each input's name and content hash: equal inputs, equal fingerprint."""
    text = "\n".join(f"{i['file']}: {i['sha256']}" for i in inputs)
    return hashlib.sha256(text.encode()).hexdigest()


# --- freezing -------------------------------------------------------------------------------


def _freeze(con: duckdb.DuckDBPyConnection, snapshot_id: str, month: date) -> None:
    """Copy each view's rows into its snapshot table under snapshot_id (rows are only added)."""
    for table, (view, rows) in FROZEN.items():
        select = f"SELECT $id AS snapshot_id, * FROM {view} WHERE {rows}"
        params = {"id": snapshot_id} | ({"month": month} if "$month" in rows else {})
        exists = con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = $t", {"t": table}
        ).fetchall()
        if not exists:
            con.execute(f"CREATE TABLE {table} AS {select} LIMIT 0", params)
        _add_new_columns(con, table, view)
        con.execute(f"INSERT INTO {table} BY NAME {select}", params)


def _add_new_columns(con: duckdb.DuckDBPyConnection, table: str, view: str) -> None:
    """A view that gained a column since the first snapshot: the frozen table gains it too."""
    have = _column_types(con, table)
    for column, kind in _column_types(con, view).items():
        if column not in have:
            con.execute(f'ALTER TABLE {table} ADD COLUMN "{column}" {kind}')


def _column_types(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    return dict(
        con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = $t"
            " ORDER BY column_index",
            {"t": name},
        ).fetchall()
    )


# --- what changed against the version before ------------------------------------------------


def _changes(
    con: duckdb.DuckDBPyConnection, month: date, version: int, snapshot_id: str, inputs: list[dict]
) -> list[str]:
    """Plain sentences: what differs from the month's previous version (nothing for version 1)."""
    if version == 1:
        return []
    before_id = f"{month:%Y-%m}-v{version - 1}"
    (before_inputs,) = con.execute(
        "SELECT inputs FROM board_snapshots WHERE snapshot_id = $id", {"id": before_id}
    ).fetchall()[0]
    lines = _input_changes(json.loads(before_inputs), inputs)
    ids = {"before": before_id, "now": snapshot_id, "month": month}
    for label, old, new, metric in con.execute(query("headline_changes"), ids).fetchall():
        lines.append(f"{label}: {_shown(metric, old)} then, {_shown(metric, new)} now")
    # The flags and verdicts of the version before against the live views, which hold what
    # this version has just frozen: the diff the dashboard shows for a snapshot.
    since = con.execute(query("flags_since"), {"id": before_id})
    names = [d[0] for d in since.description]
    changes = [dict(zip(names, row, strict=True)) for row in since.fetchall()]
    for change in (c for c in changes if c["change"] != "verdict changed"):
        lines.append(f"{change['change']}: {change['explanation']}")
    verdicts = [c for c in changes if c["change"] == "verdict changed"]
    for change in sorted(verdicts, key=lambda c: c["department_name"]):
        old, new = (change[k].replace("_", " ") for k in ("verdict_then", "verdict_now"))
        lines.append(f"{change['department_name']}: verdict {old} then, {new} now")
    if len(lines) == 0:
        lines.append(f"no input and no figure changed since version {version - 1}")
    return [f"against version {version - 1}:"] + lines


def _input_changes(before: list[dict], now: list[dict]) -> list[str]:
    old = {i["file"]: i for i in before}
    new = {i["file"]: i for i in now}
    lines = []
    for file in sorted(new.keys() - old.keys()):
        lines.append(f"file added: {file} ({new[file]['rows_loaded']:,} rows)")
    for file in sorted(old.keys() - new.keys()):
        lines.append(f"file no longer loaded: {file}")
    for file in sorted(old.keys() & new.keys()):
        if old[file]["sha256"] != new[file]["sha256"]:
            lines.append(
                f"file replaced: {file} ({old[file]['rows_loaded']:,} rows then,"
                f" {new[file]['rows_loaded']:,} now)"
            )
    return lines


def _shown(metric: str, number: float | None) -> str:
    return format_value(metric, number)


def demo_month(db_path: Path) -> date | None:
    """The reporting month, unless it is not complete or already has a snapshot (for `demo`)."""
    from etl.warehouse.read_only import connect_read_only

    con = connect_read_only(db_path)
    try:
        (month,) = con.execute(
            "SELECT max(month) FILTER (WHERE is_reporting_month AND is_complete)"
            " FROM month_completeness"
        ).fetchall()[0]
        if month is None:
            return None
        recorded = con.execute(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = 'board_snapshots'"
        ).fetchall()
        taken = (
            bool(recorded)
            and con.execute(
                "SELECT 1 FROM board_snapshots WHERE month = $m", {"m": month}
            ).fetchall()
        )
    finally:
        con.close()
    return None if taken else month
