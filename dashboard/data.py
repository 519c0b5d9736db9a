"""The dashboard's only access to the warehouse: read-only marts, cached per published file.

A load or build publishes a new database file by renaming it over the old one
(docs/architecture.md). Every query is keyed by the file's identity (inode and mtime), so a
new file gets a new connection and fresh results. `pin()` at the start of a script run fixes
the file for the whole run, so a page drawn while a load publishes never mixes two versions:
it shows the old state throughout, or it starts again on the new one.

`pin()` also fixes who is reading (etl/warehouse/access.py): connections and the SQL workbench are
made per visibility, so a reader limited to departments gets views that hold only their
departments' rows and organisation totals, whatever page, URL or query asks.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from etl.errors import CxkpiError, first_line
from etl.warehouse import sandbox, sql_errors
from etl.warehouse.access import LOCAL, Access, Visibility
from etl.warehouse.models import query
from etl.warehouse.publish import resolve_db
from etl.warehouse.read_only import connect_read_only, cursor
from etl.warehouse.sandbox import Sandbox

#: What the SQL workbench page shows of the guard: its size limit, its refusals, the example
#: queries and the views an analyst may query (pages reach the warehouse through this module).
MAX_QUERY_CHARS = sandbox.MAX_QUERY_CHARS
Refused = sandbox.Refused
examples = sandbox.examples
analyst_views = sandbox.analyst_views
VIEW_GROUPS = sandbox.GROUPS
#: A refusal in plain words, with what the guard or DuckDB said exactly underneath.
explain = sql_errors.explain
#: The longest query the workbench keeps in its link (?q=...): URL-encoded it is at most about
#: three times as long, under the 8 KB request line many servers and proxies accept.
URL_QUERY_CHARS = 2_000

#: Seconds a query result stays cached; a newly published file invalidates it at once.
CACHE_SECONDS = 600


class DataUnavailable(CxkpiError):
    """The warehouse cannot answer: no file yet, views missing or a query failed."""

    def __init__(self, problem: str, fix: str):
        self.problem = problem
        self.fix = fix
        super().__init__(f"{problem} {fix}")


class NotAllowed(DataUnavailable):
    """The reader's role does not include what was asked for."""


@dataclass(frozen=True)
class Filters:
    """What the sidebar selects: a period of months, a department ('ALL') and a channel.

    headline is the month the tiles show: the period's end, or the reporting month when the
    end is a later month still in progress (month_completeness). in_progress holds a
    sentence for each month of the period still in progress.
    """

    start: date
    end: date
    department: str
    department_name: str
    channel: str
    headline: date | None = None
    in_progress: tuple[str, ...] = ()

    @property
    def headline_month(self) -> date:
        """The month the tiles headline."""
        return self.headline or self.end


def database() -> Path:
    """The warehouse file the dashboard reads ($CXKPI_DB, else data/cxkpi.duckdb)."""
    return resolve_db(None).resolve()


def _identity() -> tuple[str, int, int]:
    path = database()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise DataUnavailable(
            f"There is no warehouse at {path} yet.",
            "Run `cxkpi demo` for sample data, or `cxkpi load <folder>` for your exports.",
        ) from None
    return str(path), stat.st_ino, stat.st_mtime_ns


#: The file this script run reads, set by pin(); unset outside the dashboard (benchmarks).
_pinned: ContextVar[tuple[str, int, int] | None] = ContextVar("cxkpi_published", default=None)
#: Who reads in this script run, set by pin(); scripts outside the dashboard read as LOCAL.
_reader: ContextVar[Access] = ContextVar("cxkpi_reader", default=LOCAL)


class _Republished(Exception):
    """The file a run pinned was replaced before a connection to it was opened."""


def pin(access: Access = LOCAL) -> None:
    """Read the file published now, as access, for the rest of this script run (app.py calls
    it first, once it knows who is looking)."""
    _reader.set(access)
    _pinned.set(None)
    if database().exists():  # else every query says there is no warehouse yet
        _pinned.set(_identity())


def _current() -> tuple[str, int, int]:
    return _pinned.get() or _identity()


def reader() -> Access:
    """Who reads in this run: their role, departments and why."""
    return _reader.get()


def _visibility() -> Visibility:
    return _reader.get().visibility


def _close(con: duckdb.DuckDBPyConnection) -> None:
    con.close()


@st.cache_resource(max_entries=16, show_spinner=False, on_release=_close)
def _connection(
    identity: tuple[str, int, int], visibility: Visibility
) -> duckdb.DuckDBPyConnection:
    """One read-only connection per published file and visibility (closed when a newer file
    replaces it)."""
    con = connect_read_only(Path(identity[0]), visibility)
    # The path named this file before the connection opened; if it still does, the
    # connection reads it (files are only ever replaced, never put back).
    if _identity() != identity:
        con.close()
        raise _Republished
    return con


@st.cache_data(ttl=CACHE_SECONDS, max_entries=1000, show_spinner=False)
def _fetch(
    identity: tuple[str, int, int], visibility: Visibility, sql: str, params: dict
) -> pl.DataFrame:
    reader = cursor(_connection(identity, visibility))
    try:
        return reader.sql(sql, params=params).pl()
    except duckdb.CatalogException as error:
        raise DataUnavailable(
            f"The warehouse has no view the dashboard needs ({first_line(error).rstrip('.')}).",
            "Run `cxkpi build` to create the views, or `cxkpi demo` for sample data.",
        ) from None
    except duckdb.Error as error:
        raise DataUnavailable(
            f"A query failed: {first_line(error).rstrip('.')}.",
            "Run `cxkpi build`; if it persists, report it with this message.",
        ) from None
    finally:
        reader.close()


def fetch(sql: str, params: dict | None = None) -> pl.DataFrame:
    """A query's result from the published warehouse (cached until a new file appears)."""
    try:
        return _fetch(_current(), _visibility(), sql, params or {})
    except _Republished:
        _republished()
    return _fetch(_current(), _visibility(), sql, params or {})


def _republished() -> None:
    """A load published a newer file while this page was drawing: draw it again on that file,
    for the same reader."""
    if _pinned.get() is not None:
        pin(_reader.get())
        st.rerun()  # raises in a dashboard run; scripts (benchmarks/soak.py) go on with it


def clear_cache() -> None:
    """Forget cached results and close the connections (benchmarks, tests)."""
    _fetch.clear()
    _connection.clear()
    _sandbox.clear()


@st.cache_resource(max_entries=16, show_spinner=False, on_release=Sandbox.close)
def _sandbox(identity: tuple[str, int, int], visibility: Visibility) -> Sandbox:
    try:
        # A spare worker: one session's runaway query never makes another's wait for a start.
        box = Sandbox(Path(identity[0]), visibility=visibility, spare=1)
    except CxkpiError as error:
        raise DataUnavailable(
            f"The SQL workbench cannot start: {error}.",
            "Fix the CXKPI_SQL_* setting or the database, then restart `cxkpi serve`.",
        ) from None
    if _identity() != identity:  # as for connections: the file it opened must be this one
        box.close()
        raise _Republished
    return box


def workbench() -> Sandbox:
    """The ad-hoc SQL guard over the published file, shared by every session (thread-safe).

    Its limits come from CXKPI_SQL_* variables (`cxkpi serve --sql-timeout` sets one).
    Its views hold what the reader may see; a role without the workbench gets none.
    """
    _require("sql", "the SQL workbench")
    try:
        return _sandbox(_current(), _visibility())
    except _Republished:
        _republished()
    return _sandbox(_current(), _visibility())


def _require(permission: str, what: str) -> None:
    access = _reader.get()
    if not getattr(access.role, permission):
        raise NotAllowed(
            f"Your access ({access.describe()}) does not include {what}.",
            f"Ask {access.contact or 'whoever keeps the access file'} for a role that does.",
        )


def known_departments() -> dict[str, str]:
    """Every department in the published warehouse by id, whoever reads (access checks)."""
    frame = _fetch(
        _identity(),
        Visibility(),
        "SELECT value, label FROM filter_values WHERE filter = 'department'",
        {},
    )
    return dict(frame.iter_rows())


# --- filters -------------------------------------------------------------------------------


def filter_values() -> dict[str, pl.DataFrame]:
    """The months, departments and channels the filters offer, in order."""
    frame = fetch("SELECT * FROM filter_values ORDER BY filter, sort_order")
    return {
        name: frame.filter(pl.col("filter") == name) for name in ("month", "department", "channel")
    }


# --- overview ------------------------------------------------------------------------------


def headlines(filters: Filters, metrics: list[str]) -> pl.DataFrame:
    """The tiles' figures for the headline month, in the order of metrics."""
    frame = fetch(
        "SELECT * FROM kpi_headlines WHERE department_id = $department AND channel = $channel"
        " AND month = $month AND list_contains($metrics, metric)",
        {
            "department": filters.department,
            "channel": filters.channel,
            "month": filters.headline_month,
            "metrics": metrics,
        },
    )
    order = {m: i for i, m in enumerate(metrics)}
    return frame.sort(pl.col("metric").replace_strict(order, return_dtype=pl.Int32))


def trend(filters: Filters, metrics: list[str]) -> pl.DataFrame:
    """Monthly figures of the metrics over the period (wave metrics at their waves)."""
    return fetch(
        "SELECT month, metric, label, family, better, unit, value, n, ci_low, ci_high, note,"
        " is_all_channels, is_in_progress FROM kpi_headlines WHERE department_id = $department"
        " AND channel = $channel AND month BETWEEN $start AND $end"
        " AND list_contains($metrics, metric) AND period = month ORDER BY metric, month",
        {
            "department": filters.department,
            "channel": filters.channel,
            "start": filters.start,
            "end": filters.end,
            "metrics": metrics,
        },
    )


def findings(department: str) -> pl.DataFrame:
    """The analyses' findings in reading order, for one department or all ('ALL')."""
    return fetch(
        "SELECT * FROM findings WHERE $department = 'ALL' OR department_id IN ($department, 'ALL')"
        " ORDER BY rank",
        {"department": department},
    )


def data_as_of() -> pl.DataFrame:
    """Per source: files, rows, last load and the months its data covers."""
    return fetch("SELECT * FROM source_freshness ORDER BY source")


def reporting_months() -> pl.DataFrame:
    """The reporting month and every month after it still in progress, in order."""
    return fetch(
        "SELECT * FROM month_completeness WHERE is_reporting_month OR is_in_progress ORDER BY month"
    )


# --- KPI conflicts -------------------------------------------------------------------------


def conflicts(department: str) -> pl.DataFrame:
    """Every productivity x outcome pair of a department (or 'ALL') with its association."""
    return fetch(
        "SELECT * FROM kpi_conflict_pairs WHERE department_id = $department"
        " ORDER BY productivity_metric, outcome_metric",
        {"department": department},
    )


def series(department: str, metrics: list[str]) -> pl.DataFrame:
    """Monthly values of some metrics of a department (or 'ALL'), over all months."""
    return fetch(
        "SELECT month, metric, label, unit, better, value, n, ci_low, ci_high, note"
        " FROM metric_series WHERE department_id = $department"
        " AND list_contains($metrics, metric) ORDER BY metric, month",
        {"department": department, "metrics": metrics},
    )


# --- departments, employee voice, initiatives ----------------------------------------------


def department_value() -> pl.DataFrame:
    """The value verdict of every department with its evidence."""
    return fetch("SELECT * FROM department_value ORDER BY department_name")


def nps_drivers(department: str) -> pl.DataFrame:
    """What moves the NPS of a department's customers (or the organisation's, 'ALL')."""
    return fetch(
        "SELECT * FROM nps_drivers WHERE department_id = $department"
        " ORDER BY nps_lost NULLS LAST, driver",
        {"department": department},
    )


def linkage(start: date, end: date) -> pl.DataFrame:
    """Empowerment by department (and 'ALL') and survey wave in a period, with what followed."""
    return fetch(
        "SELECT * FROM ex_cx_linkage WHERE wave BETWEEN $start AND $end"
        " ORDER BY department_name, wave",
        {"start": start, "end": end},
    )


def initiatives(department: str) -> pl.DataFrame:
    """Each initiative's lift after 1 month and 3-6 months (one department's, or all)."""
    return fetch(
        "SELECT * FROM initiative_results WHERE $department = 'ALL' OR department_id = $department"
        " ORDER BY started_on",
        {"department": department},
    )


# --- failure demand ------------------------------------------------------------------------


def failure_demand_headline(department: str, month: date) -> dict | None:
    """A department's (or the organisation's) failure-demand share of a month, with the month
    before and a year before; None without contacts that month."""
    frame = fetch(
        "SELECT * FROM failure_demand_headline WHERE department_id = $department"
        " AND month = $month",
        {"department": department, "month": month},
    )
    return frame.row(0, named=True) if frame.height else None


def failure_demand_months(department: str, start: date, end: date) -> pl.DataFrame:
    """A department's (or the organisation's, 'ALL') failure demand received and caused, by
    month and reason, over a period."""
    return fetch(
        "SELECT * FROM failure_demand_month WHERE department_id = $department"
        " AND month BETWEEN $start AND $end ORDER BY month",
        {"department": department, "start": start, "end": end},
    )


def failure_demand_flows(department: str, start: date, end: date) -> pl.DataFrame:
    """Failure demand from causing to receiving department over a period (contacts and hours),
    every pair or those of one department at either end."""
    return fetch(
        "SELECT cause_department_id, cause_department_name, department_id, department_name,"
        " sum(contacts) AS contacts, sum(hours) AS hours FROM failure_demand_flows"
        " WHERE month BETWEEN $start AND $end AND ($department = 'ALL'"
        " OR $department IN (cause_department_id, department_id)) GROUP BY ALL ORDER BY ALL",
        {"department": department, "start": start, "end": end},
    )


def failure_demand_ledger() -> pl.DataFrame:
    """Per department, over the last 12 months, the failure-demand hours and cost it caused
    elsewhere and those it absorbed from others (a scoped reader: only its departments)."""
    return fetch(
        "SELECT * FROM failure_demand_ledger ORDER BY net_hours_caused DESC, department_name", {}
    )


def failure_demand_causes(department: str, start: date, end: date) -> pl.DataFrame:
    """The biggest causes of failure demand in a period, with example case ids."""
    return fetch(
        query("failure_demand_causes"), {"department": department, "start": start, "end": end}
    )


# --- customers' words ----------------------------------------------------------------------

#: Comments a search shows at most; the count says how many matched in all.
SEARCH_LIMIT = 50


def theme_evidence(department: str, themes: int = 3) -> pl.DataFrame:
    """A department's (or the organisation's, 'ALL') top themes among its detractors' comments,
    with the organisation's share and up to three representative redacted comments."""
    return fetch(
        "SELECT * FROM theme_evidence WHERE department_id = $department AND theme_rank <= $themes"
        " ORDER BY theme_rank",
        {"department": department, "themes": themes},
    )


def theme_months(filters: Filters) -> pl.DataFrame:
    """Each theme's share of the comments per month over the period, for the filter's department
    or every department the reader sees ('ALL')."""
    return fetch(
        "SELECT month, theme_id, any_value(theme_label) AS theme_label,"
        " any_value(theme_order) AS theme_order,"
        " any_value(reliable) AS reliable, sum(comments)::BIGINT AS comments,"
        " sum(comments_n)::BIGINT AS comments_n, sum(comments) / sum(comments_n) AS share"
        " FROM theme_month WHERE month BETWEEN $start AND $end AND theme_id <> 'unmatched'"
        " AND ($department = 'ALL' OR department_id = $department)"
        " GROUP BY month, theme_id ORDER BY month, theme_id",
        {"start": filters.start, "end": filters.end, "department": filters.department},
    )


def theme_taxonomy() -> pl.DataFrame:
    """The themes in use, with their F1 on the labelled comments."""
    return fetch("SELECT * FROM theme_taxonomy ORDER BY theme_order")


def rising_themes(department: str) -> pl.DataFrame:
    """Each theme's share in the last 3 months with comments against the 3 before."""
    return fetch(
        "SELECT * FROM theme_rising WHERE department_id = $department"
        " ORDER BY change DESC NULLS LAST, theme_order",
        {"department": department},
    )


def search_comments(filters: Filters, words: str) -> tuple[pl.DataFrame, int]:
    """Redacted comments over the period holding the words (case-insensitive), newest first:
    at most SEARCH_LIMIT of them, and how many matched in all."""
    params = {
        "start": filters.start,
        "end": filters.end,
        "department": filters.department,
        "channel": filters.channel,
        "pattern": "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%",
        "limit": SEARCH_LIMIT,
    }
    found = fetch(_SEARCH, params)
    return found.drop("matches"), (found["matches"][0] if found.height else 0)


#: The search's matches, one row per comment with the themes it took, and their count.
_SEARCH = (
    "WITH m AS (SELECT response_id, any_value(department_id) AS department_id,"
    " any_value(month) AS month,"
    " any_value(nps_category) AS nps_category, any_value(redacted_comment) AS comment,"
    " string_agg(theme_label, ', ' ORDER BY theme_label) AS themes,"
    " bool_or(reliable = false) AS has_unreliable"
    " FROM comment_themes WHERE month BETWEEN $start AND $end"
    " AND ($department = 'ALL' OR department_id = $department)"
    " AND ($channel = 'all' OR channel = $channel)"
    " AND redacted_comment ILIKE $pattern ESCAPE '\\' GROUP BY response_id)"
    " SELECT *, count(*) OVER () AS matches FROM m ORDER BY month DESC, response_id LIMIT $limit"
)


# --- data quality --------------------------------------------------------------------------


def load_runs(limit: int = 200) -> pl.DataFrame:
    """The latest file loads, newest first."""
    return fetch(
        "SELECT load_id, file, source, status, rows_read, rows_loaded, rows_quarantined,"
        " rows_filtered, started_at, finished_at, message, profile, is_superseded FROM load_runs"
        " ORDER BY load_id DESC LIMIT $limit",
        {"limit": limit},
    )


def quarantine_summary() -> pl.DataFrame:
    """Rejected rows of the current loads by file, column and rule, with the fix."""
    return fetch("SELECT * FROM quarantine_summary ORDER BY rows_quarantined DESC, file")


def quarantined_rows(limit: int = 1000) -> pl.DataFrame:
    """Rows of the current loads in quarantine as the system sent them (data owners only)."""
    _require("raw_records", "quarantined rows as they were sent")
    return fetch(
        'SELECT file, row_number, "column", rule, message, raw_record FROM quarantine'
        " WHERE NOT is_superseded ORDER BY file, row_number LIMIT $limit",
        {"limit": limit},
    )


def initiative_lifts(department: str) -> pl.DataFrame:
    """Each initiative's two lifts (1 month, 3-6 months) with intervals, one row per lift."""
    return fetch(
        "SELECT title, panel, initiative_name, stage, lift, low, high, shown_lift, shown_low,"
        " shown_high, shown_unit FROM initiative_lifts"
        " WHERE $department = 'ALL' OR department_id = $department ORDER BY started_on, stage",
        {"department": department},
    )


# --- board snapshots -----------------------------------------------------------------------


def snapshots() -> pl.DataFrame:
    """Every board snapshot, newest month and version first (empty before the first)."""
    taken = fetch(
        "SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database()"
        " AND table_name = 'board_snapshots'"
    )
    if taken.is_empty():
        return pl.DataFrame()
    return fetch(
        "SELECT snapshot_id, month, version, taken_at, taken_by, pdf_path, pdf_sha256,"
        " pdf_pages, fingerprint, inputs, analyses_from, analyses_to, changes"
        " FROM board_snapshots ORDER BY month DESC, version DESC"
    )


def frozen_headlines(snapshot_id: str, month: date, metrics: list[str]) -> pl.DataFrame:
    """The organisation's headline figures as frozen, in the order of metrics."""
    frame = fetch(
        "SELECT * FROM snapshot_kpi_headlines WHERE snapshot_id = $id AND department_id = 'ALL'"
        " AND month = $month AND list_contains($metrics, metric)",
        {"id": snapshot_id, "month": month, "metrics": metrics},
    )
    order = {m: i for i, m in enumerate(metrics)}
    return frame.sort(pl.col("metric").replace_strict(order, return_dtype=pl.Int32))


def frozen_failure_demand(snapshot_id: str, month: date) -> dict | None:
    """The organisation's failure-demand share of the month as the snapshot froze it: the row,
    {} where it froze none (taken before failure demand was frozen, or withheld from this
    reader), None where no snapshot has frozen any."""
    frozen = fetch(
        "SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database()"
        " AND table_name = 'snapshot_failure_demand_headline'"
    )
    if frozen.is_empty():
        return None
    frame = fetch(
        "SELECT * FROM snapshot_failure_demand_headline WHERE snapshot_id = $id"
        " AND department_id = 'ALL' AND month = $month",
        {"id": snapshot_id, "month": month},
    )
    return frame.row(0, named=True) if frame.height else {}


def frozen_findings(snapshot_id: str) -> pl.DataFrame:
    """The flags as they stood when the snapshot was taken."""
    return fetch(
        "SELECT * FROM snapshot_findings WHERE snapshot_id = $id ORDER BY rank", {"id": snapshot_id}
    )


def frozen_scorecard(snapshot_id: str, month: date) -> pl.DataFrame:
    """Every department's figures of the month as frozen, with its frozen verdict."""
    return fetch(query("frozen_scorecard"), {"id": snapshot_id, "month": month})


def frozen_pack(snapshot_id: str) -> bytes | None:
    """The snapshot's PDF board pack, byte for byte as written; None for a reader limited to
    departments (a pack holds every department)."""
    if _visibility().departments is not None:
        return None
    frame = fetch("SELECT pdf FROM snapshot_packs WHERE snapshot_id = $id", {"id": snapshot_id})
    return frame["pdf"][0]


def figures_since(snapshot_id: str, month: date) -> pl.DataFrame:
    """Headline figures of the month (organisation and departments, all channels) whose live
    value or n differs today from the frozen one."""
    return fetch(query("figures_since"), {"id": snapshot_id, "month": month})


def flags_since(snapshot_id: str) -> pl.DataFrame:
    """KPI-conflict flags and department verdicts that differ today from the frozen ones."""
    changes = fetch(query("flags_since"), {"id": snapshot_id})
    since = {"new flag": "new flag since", "flag withdrawn": "flag withdrawn since"}
    return changes.select(pl.col("change").replace(since), "detail")


def inputs_since(snapshot_id: str) -> pl.DataFrame:
    """Input files added, replaced or no longer loaded since the snapshot (its fingerprint's
    list against the current loads)."""
    return fetch(query("inputs_since"), {"id": snapshot_id})
