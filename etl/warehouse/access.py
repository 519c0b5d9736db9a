"""Who may see what: roles granted to signed-in people, limited to departments if need be.

The access file is a small YAML file (docs/access.md) read when `cxkpi serve` starts and
on every page run. Grants are tried in order and the first that matches the signed-in
identity (e-mail, e-mail domain or a group claim) decides the role and departments; no
match means no access. Every mistake in the file stops the dashboard with a message naming
the file and line: a typo never opens a door.

What a reader may see of the warehouse is a `Visibility`. It is enforced where data is read:
the dashboard's connection and the SQL workbench's sandbox expose each view through
`Visibility.expose`, so rows of other departments are not there to be found by any page,
URL parameter or query.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from etl import settings
from etl.config_file import compose, cut, fail, line, mapping, scalar, sequence
from etl.contract.metrics import METRICS, MIN_N_ENGAGEMENT_GROUP
from etl.contract.pages import PAGE_NAMES
from etl.sqltext import literal

#: The dashboard's pages, by the name in their URL (etl/reporting/lists.py lists them).
PAGES = PAGE_NAMES
_DASHBOARD = frozenset(PAGES) - {"sql_workbench"}


@dataclass(frozen=True)
class Role:
    """What a role may open and do."""

    name: str
    pages: frozenset[str]
    sql: bool  # the SQL workbench and data downloads
    raw_records: bool  # quarantined rows as they were sent
    description: str


ROLES = {
    role.name: role
    for role in (
        Role("board", frozenset({"overview", "board_snapshots"}), False, False,
             "the overview and the board snapshots"),
        Role("executive", _DASHBOARD, False, False,
             "every dashboard page, without the SQL workbench or downloads"),
        Role("analyst", frozenset(PAGES), True, False,
             "every page, the SQL workbench and downloads"),
        Role("data_owner", frozenset(PAGES), True, True,
             "as analyst, plus quarantined rows as they were sent and customers' comments"),
    )
}  # fmt: skip

#: Rows of these views belong to no department: organisation totals and metadata.
ORGANISATION_VIEWS = frozenset(
    {
        "organisation_month",
        "metric_definitions",
        "source_freshness",
        "load_runs",
        "model_settings",
        "int_data_window",
        "int_value_window",
        "int_source_months",
        "month_completeness",
        "board_snapshots",
        "quarantine_summary",
        # The themes and their measured F1: the taxonomy, no department's comments.
        "theme_taxonomy",
    }
)
#: Never exposed to the dashboard: individual engagement answers, their counts before
#: suppression (docs/security.md#employee-anonymity), raw and load tables.
HIDDEN_PREFIXES = ("raw_", "meta_")
HIDDEN = frozenset({"stg_engagement_responses", "int_engagement_counts"})
#: Columns of organisation rows that name the departments behind a figure: a reader limited to
#: departments sees them empty, and the sentence without its `drivers` clause (whatever
#: follows that clause, such as the hours a faster handling saved, stays).
_DRIVER_COLUMNS = frozenset(
    {
        "drivers",
        "productivity_driver_id",
        "productivity_driver_share",
        "outcome_driver_id",
        "outcome_driver_share",
        "shows_through",
    }
)
_WITHOUT_DRIVERS = (
    "* REPLACE (CASE WHEN drivers IS NULL THEN explanation"
    " ELSE replace(explanation, ': ' || drivers, '') END AS explanation{nulls})"
)
#: What only a data owner sees: rows as they were sent, customers' free-text comments, which
#: can hold names, e-mail addresses and phone numbers, and the server's paths (docs/security.md).
_PERSONAL = {
    "raw_record": "NULL::JSON",
    "comment": "NULL::VARCHAR",
    # Where the server keeps its files is the server's: the rest see a file's source folder
    # and name (as in load_runs.file_key) and a pack's or profile's name.
    "file": "regexp_extract(file, '[^/\\\\]*[/\\\\]?[^/\\\\]*$')",
    "pdf_path": "regexp_extract(pdf_path, '[^/\\\\]*$')",
    "html_path": "regexp_extract(html_path, '[^/\\\\]*$')",
    "profile": "regexp_extract(profile, '[^/\\\\]*$')",
}
#: How nps_drivers names a driver that is a hand-off to one back office (a department).
BACK_OFFICE_DRIVER = "back_office_id:"
#: The department rows of a view include these organisation-wide ones.
EVERY_DEPARTMENT = ("ALL", "*")


#: Monthly figures in long form ('ALL' rows are the organisation's), and in wide form.
_CELL_VIEWS = frozenset({"metric_channel_month", "metric_month", "metric_series",
                         "kpi_headlines", "snapshot_kpi_headlines"})  # fmt: skip
_WIDE_VIEWS = frozenset({"int_month_wide", "organisation_month"})
#: The organisation's cells a scoped reader would see through: those where the departments the
#: reader cannot see (outside the scope, or withheld for anonymity) are one department, or
#: too few employee answers.
_SEE_THROUGH = (
    "SELECT channel, month, metric FROM {{file}}.metric_channel_month"
    " WHERE department_id <> 'ALL' AND n > 0"
    " AND (department_id NOT IN ({scope}) OR (family = 'empowerment' AND value IS NULL))"
    " GROUP BY channel, month, metric HAVING count(*) = 1"
    f" OR (any_value(family) = 'empowerment' AND sum(n) < {MIN_N_ENGAGEMENT_GROUP})"
)
_WITHHELD_NOTE = "'withheld: it would reveal a department outside your scope'"
#: The figure columns of the long monthly views.
_CELL_FIGURES = (
    "value", "n", "ci_low", "ci_high", "note", "previous_value", "previous_n",
    "change_vs_previous", "year_ago_value", "year_ago_n", "change_vs_year_ago",
)  # fmt: skip
#: Lines of a snapshot's `changes` that speak of no department: the files behind it.
_CHANGES_IN_SCOPE = (
    "array_to_string(list_filter(string_split(changes, chr(10)),"
    " lambda l: l LIKE 'against version %' OR l LIKE 'file %' OR l LIKE 'no input %'),"
    " chr(10)) AS changes"
)


#: Views whose figures set a department against others: the column listing those others,
#: and the figures that would give a single one of them away.
_COMPARED = {
    "department_value": ("reference_ids", ("nps_gap", "nps_gap_ci_low", "nps_gap_ci_high",
                         "hours_added", "hours_added_ci_low", "hours_added_ci_high")),
    "initiative_effects": ("comparison_ids", ("lift_1_month", "lift_1_month_ci_low",
                           "lift_1_month_ci_high", "lift_3_6_months", "lift_3_6_months_ci_low",
                           "lift_3_6_months_ci_high")),
}  # fmt: skip
_COMPARED.update({f"snapshot_{name}": found for name, found in _COMPARED.items()})
#: Marts that add labels to a comparing view, or unpivot it: its rules, on their columns.
_COMPARED["initiative_results"] = (
    "comparison_ids",
    (*_COMPARED["initiative_effects"][1], "reason", "trend_explains"),
)
_COMPARED["initiative_lifts"] = (
    "comparison_ids",
    ("lift", "low", "high", "shown_lift", "shown_low", "shown_high"),
)
_COMPARISON_WITHHELD = (
    "'The comparison is withheld: a single department it is set against lies outside the"
    " departments you see, so its figures would give that department away.'"
)


def _compared(name: str, columns: Sequence[str], scope: str) -> str:
    """The SELECT list of a comparing view: no figure set against a lone outside department,
    and not who the others are."""
    ids, figures = _COMPARED[name]
    # Without the list (a snapshot frozen before it existed) the figures are withheld too.
    lone = "true"
    if ids in columns:
        lone = f"len(list_filter(coalesce(v.{ids}, ['?']), lambda d: d NOT IN ({scope}))) = 1"
    shown = [_withheld(lone, c) for c in (*figures, "explanation") if c in columns]
    if ids in columns:
        shown.append(f"NULL AS {ids}")
    return f"v.* REPLACE ({', '.join(shown)})"


def _findings(name: str, scope: str) -> str:
    """The findings, without the sentence and strength of one that sets its department against
    a lone outside department (as in department_value and initiative_effects)."""
    lone = "v.kind IN ('watermelon', 'destroys_value') OR v.initiative_id IS NOT NULL"
    join = ""
    if name == "findings":
        join = (
            " LEFT JOIN (SELECT department_id, NULL AS initiative_id, reference_ids AS ids"
            " FROM {file}.department_value UNION ALL SELECT department_id, initiative_id,"
            " comparison_ids FROM {file}.initiative_effects) AS c"
            " ON c.department_id = v.department_id"
            " AND c.initiative_id IS NOT DISTINCT FROM v.initiative_id"
        )
        outside = f"list_filter(coalesce(c.ids, ['?']), lambda d: d NOT IN ({scope}))"
        lone = f"({lone}) AND len({outside}) = 1"
    return (
        f"(SELECT v.* REPLACE ({_withheld(lone, 'explanation')}, {_withheld(lone, 'strength')})"
        f" FROM {{source}} AS v{join})"
    )


def _through(scope: str) -> str:
    """The organisation cells a reader of scope would see through, with every channel of a
    month and metric where one channel is: the all-channel total less the other channels
    would give that one back."""
    through = _SEE_THROUGH.format(scope=scope)
    return (
        f"SELECT DISTINCT channel, month, metric FROM ({through})"
        f" UNION SELECT c.channel, t.month, t.metric FROM ({through}) AS t,"
        " (SELECT DISTINCT channel FROM {file}.metric_channel_month WHERE channel <> 'all') AS c"
        " WHERE t.channel <> 'all'"
    )


#: An organisation row of an analysis a scoped reader sees only where, in its metrics and
#: months, the departments they cannot see are not a single one (see _SEE_THROUGH).
_LONE_IN_WINDOW = (
    "NOT EXISTS (SELECT 1 FROM {{file}}.metric_month AS m WHERE m.metric IN"
    " (v.productivity_metric, v.outcome_metric) AND m.n > 0 AND m.department_id <> 'ALL'"
    " AND m.department_id NOT IN ({{scope}}){window} GROUP BY m.metric"
    " HAVING count(DISTINCT m.department_id) = 1)"
)
_WAVE_SEEN_THROUGH = (
    "NOT EXISTS (SELECT 1 FROM ({through}) AS t WHERE t.channel = 'all' AND ((t.month = v.wave"
    " AND t.metric IN ('enps', 'engagement_index', 'empowerment_index', 'teamwork_index'))"
    " OR (t.metric IN ('nps', 'fcr_rate') AND t.month > v.wave"
    " AND t.month <= v.wave + INTERVAL 3 MONTH)))"
)
_ORGANISATION_ROWS = {
    "kpi_conflicts": _LONE_IN_WINDOW.format(
        window=" AND m.month BETWEEN v.first_month AND v.last_month"
    ),
    "findings": _LONE_IN_WINDOW.format(window=""),
    "ex_cx_linkage": _WAVE_SEEN_THROUGH,
    "int_linkage_outcome_month": (
        "NOT EXISTS (SELECT 1 FROM ({through}) AS t WHERE t.channel = 'all'"
        " AND t.month = v.month AND t.metric IN ('nps', 'fcr_rate'))"
    ),
}
_ORGANISATION_ROWS.update({f"snapshot_{n}": g for n, g in list(_ORGANISATION_ROWS.items())})
#: The organisation's failure demand in a month, less the reader's departments, would be the
#: one department outside the scope that received or caused any that month.
_ORGANISATION_ROWS["failure_demand_month"] = (
    "NOT EXISTS (SELECT 1 FROM {file}.failure_demand_month AS m WHERE m.month = v.month"
    " AND m.department_id <> 'ALL' AND m.department_id NOT IN ({scope})"
    " AND (m.contacts > 0 OR m.caused_contacts > 0) HAVING count(*) = 1)"
)
#: The organisation's drivers, less the reader's departments' answers, would be the one
#: department outside the scope whose customers answered.
_ORGANISATION_ROWS["nps_drivers"] = (
    "NOT EXISTS (SELECT 1 FROM {file}.nps_driver_answers AS a"
    " WHERE coalesce(a.department_id, '') NOT IN ({scope})"
    " HAVING count(DISTINCT coalesce(a.department_id, '')) = 1)"
)
#: The organisation's handling and caused failure demand in a month, likewise.
_ORGANISATION_ROWS["int_handling_demand_month"] = _ORGANISATION_ROWS["failure_demand_month"]
#: The organisation's failure-demand headline carries its month, the month before and a year
#: before: each of them must hide more than one department.
_ORGANISATION_ROWS["failure_demand_headline"] = (
    "NOT EXISTS (SELECT 1 FROM {file}.failure_demand_month AS m WHERE m.month IN (v.month,"
    " v.month - INTERVAL 1 MONTH, v.month - INTERVAL 12 MONTH) AND m.department_id <> 'ALL'"
    " AND m.department_id NOT IN ({scope}) AND (m.contacts > 0 OR m.caused_contacts > 0)"
    " GROUP BY m.month HAVING count(*) = 1)"
)
_ORGANISATION_ROWS["snapshot_failure_demand_headline"] = _ORGANISATION_ROWS[
    "failure_demand_headline"
]
#: The frozen months, by the same rule among the rows frozen with them.
_ORGANISATION_ROWS["snapshot_failure_demand_month"] = (
    "NOT EXISTS (SELECT 1 FROM {file}.snapshot_failure_demand_month AS m"
    " WHERE m.snapshot_id = v.snapshot_id AND m.month = v.month"
    " AND m.department_id <> 'ALL' AND m.department_id NOT IN ({scope})"
    " AND (m.contacts > 0 OR m.caused_contacts > 0) HAVING count(*) = 1)"
)
#: kpi_conflicts with its metrics' labels: the same organisation rows are withheld.
_ORGANISATION_ROWS["kpi_conflict_pairs"] = _ORGANISATION_ROWS["kpi_conflicts"]

#: Views of customers' words: a reader limited to departments sees their departments' rows
#: only, never the organisation's, whose example comments may be any department's; the
#: organisation's share beside theirs is withheld where the departments outside the scope
#: with detractors' comments are one, which the share less theirs would give away.
_WORDS = frozenset({"theme_evidence", "snapshot_theme_evidence", "theme_rising"})
_WORDS_LONE = (
    "(SELECT count(DISTINCT department_id) FROM {file}.theme_evidence"
    " WHERE department_id <> 'ALL' AND department_id NOT IN ({scope})) = 1"
)
_WORDS_FIGURES = ("organisation_comments", "organisation_n", "organisation_share")


#: The ledger's hours absorbed from others, or caused for others to take, when one department
#: outside the scope is all of those others: that department's own failure demand (as in
#: failure_demand_flows, whose rows across the scope's border are withheld). The snapshot's
#: others are counted in the live contacts of its months.
_LEDGERS = frozenset({"failure_demand_ledger", "snapshot_failure_demand_ledger"})
_LEDGER_OTHERS = (
    "(SELECT count(DISTINCT f.{other}) FROM {{file}}.int_failure_demand AS f"
    " WHERE f.is_failure_demand AND f.{own} = v.department_id"
    " AND f.cause_department_id <> f.department_id AND f.{other} NOT IN ({{scope}})"
    " AND f.month BETWEEN v.first_month AND v.last_month) = 1"
)
_LEDGER_SIDES = {
    "absorbed": _LEDGER_OTHERS.format(other="cause_department_id", own="department_id"),
    "caused_elsewhere": _LEDGER_OTHERS.format(other="department_id", own="cause_department_id"),
}


def _ledger(columns: Sequence[str], scope: str) -> str:
    """The SELECT list of the ledger for a reader of scope: each side's figures withheld where
    a lone outside department is the other end, and the net with either."""
    flags = {side: sql.format(scope=scope, file="{file}") for side, sql in _LEDGER_SIDES.items()}
    shown = [
        _withheld(flag, f"{side}_{figure}")
        for side, flag in flags.items()
        for figure in ("contacts", "hours", "cost")
        if f"{side}_{figure}" in columns
    ]
    if "net_hours_caused" in columns:
        shown.append(_withheld(" OR ".join(flags.values()), "net_hours_caused"))
    return f"v.* REPLACE ({', '.join(shown)})"


def _withheld(flag: str, column: str) -> str:
    """column, or nothing (its note saying why) where flag holds."""
    hidden = "NULL"
    if column.endswith("note"):
        hidden = _WITHHELD_NOTE
    elif column in ("explanation", "reason"):
        hidden = _COMPARISON_WITHHELD
    return f'CASE WHEN {flag} THEN {hidden} ELSE v."{column}" END AS "{column}"'


def _totals_by_cell(name: str, columns: Sequence[str], scope: str, wanted: str) -> str:
    """A monthly view whose organisation figures are withheld cell by cell where they would
    reveal a department outside the scope."""
    through = _SEE_THROUGH.format(scope=scope)
    if name in _WIDE_VIEWS:
        return _wide_totals(columns, through, wanted)
    figures = ", ".join(_withheld("v._seen_through", c) for c in _CELL_FIGURES if c in columns)
    channel = "v.channel" if "channel" in columns else "'all'"
    if "is_all_channels" in columns:
        channel = "CASE WHEN v.is_all_channels THEN 'all' ELSE v.channel END"
    months = ("v.month",)
    if "period" in columns:  # a tile: its period, the one before and a year before
        months = ("v.period", "v.previous_period", "v.period - INTERVAL 12 MONTH")
    seen_through = " OR ".join(f"u.month = {m}" for m in months)
    # A semi-join: a tile whose period, month before and year before are all seen through
    # is still one row.
    flagged = (
        f"SELECT v.*, v.department_id = 'ALL' AND EXISTS (SELECT 1 FROM ({_through(scope)}) AS u"
        f" WHERE u.channel = {channel} AND u.metric = v.metric AND ({seen_through}))"
        f" AS _seen_through FROM {{source}} AS v WHERE v.department_id IN ({wanted})"
    )
    return f"SELECT v.* EXCLUDE (_seen_through) REPLACE ({figures}) FROM ({flagged}) AS v"


def _wide_totals(columns: Sequence[str], through: str, wanted: str) -> str:
    """The same for a view with a column per metric (int_month_wide, organisation_month)."""
    metrics = [m for m in METRICS if m in columns]
    flags = ", ".join(f'bool_or(metric = {literal(m)}) AS "{m}"' for m in metrics)
    figures = ", ".join(
        _withheld(f'u."{m}"', column)
        for m in metrics
        for column in (m, f"{m}_n", f"{m}_ci_low", f"{m}_ci_high", f"{m}_note")
        if column in columns
    )
    on, where = "u.month = v.month", "true"
    if "department_id" in columns:
        on, where = f"{on} AND v.department_id = 'ALL'", f"v.department_id IN ({wanted})"
    return (
        f"SELECT v.* REPLACE ({figures}) FROM {{source}} AS v"
        f" LEFT JOIN (SELECT month, {flags} FROM ({through}) WHERE channel = 'all'"
        f" GROUP BY month) AS u ON {on} WHERE {where}"
    )


class Visibility(NamedTuple):
    """The part of the warehouse a reader sees (hashable: connections are cached by it)."""

    departments: tuple[str, ...] | None = None  # None: every department
    raw_records: bool = True

    def expose(self, name: str, columns: Sequence[str], lone_outsider: bool = False) -> str | None:
        """The SELECT list and filter over the view `name` this reader sees, with `{source}`
        standing for the view and `{file}` for its schema; None hides the view.

        A reader limited to departments sees the organisation's totals only where they do not
        give away a department outside the scope by subtraction (docs/security.md): a monthly
        figure is withheld where a single department outside the scope (or, for employee
        figures, fewer than 5 answers) makes the difference, and organisation rows of the
        analyses are withheld whole when just one department with data lies outside
        (`lone_outsider`).
        """
        replaced = []
        if not self.raw_records:
            replaced = [f"{_PERSONAL[c]} AS {c}" for c in _PERSONAL if c in columns]
        if self.departments is not None and name == "board_snapshots":
            replaced.append(_CHANGES_IN_SCOPE)
        select = f"* REPLACE ({', '.join(replaced)})" if replaced else "*"
        if self.departments is None:
            return f"SELECT {select} FROM {{source}}"
        if "drivers" in columns:  # organisation sentences that name other departments
            select = _WITHOUT_DRIVERS.format(
                nulls="".join(f", NULL AS {c}" for c in columns if c in _DRIVER_COLUMNS)
            )
        key = next((c for c in columns if c == "department_id"), None) or next(
            (c for c in columns if c.endswith("department_id")), None
        )
        scope = ", ".join(literal(d) for d in self.departments)
        wanted = ", ".join(literal(d) for d in (*self.departments, *EVERY_DEPARTMENT))
        if name in _CELL_VIEWS or name in _WIDE_VIEWS:
            return _totals_by_cell(name, columns, scope, wanted)
        if lone_outsider and name not in ORGANISATION_VIEWS:
            wanted = scope
        if name in _WORDS:
            wanted = scope
            lone = _WORDS_LONE.format(file="{file}", scope=scope)
            shown = ", ".join(_withheld(lone, c) for c in _WORDS_FIGURES if c in columns)
            select = f"v.* REPLACE ({shown})" if shown else select
        if name in _COMPARED:
            select = _compared(name, columns, scope)
        if name in _LEDGERS:
            select = _ledger(columns, scope)
        if name == "filter_values":  # a channel's contacts are the organisation's
            select = "* REPLACE (CASE WHEN filter = 'channel' THEN NULL ELSE detail END AS detail)"
            where = f"filter <> 'department' OR value IN ({wanted})"
        elif name in ("snapshot_packs", "quarantine"):
            return None  # a pack holds every department; raw rows may belong to any
        elif name == "board_snapshots":
            return f"SELECT {select} FROM {{source}}"
        elif key:
            where = f'"{key}" IN ({wanted})'
            if name in _ORGANISATION_ROWS:
                guard = _ORGANISATION_ROWS[name].format(
                    scope=scope, through=_through(scope), file="{file}"
                )
                where += f""" AND (v."{key}" NOT IN ('ALL', '*') OR {guard})"""
            for handler in (c for c in columns if c.endswith("_handler_id")):
                where += f' AND (v."{handler}" IS NULL OR v."{handler}" IN ({scope}))'
            # A hand-off to a back office outside the scope, or weighed against one, weighs
            # that department's work.
            if name in ("nps_drivers", "snapshot_nps_drivers"):
                where += (
                    f" AND (v.driver NOT LIKE '{BACK_OFFICE_DRIVER}%'"
                    f" OR (substr(v.driver, {len(BACK_OFFICE_DRIVER) + 1}) IN ({scope})"
                    f" AND v.compared_with IN ({scope})))"
                )
            # Failure demand a department outside the scope caused is that department's.
            if "cause_department_id" in columns and key != "cause_department_id":
                where += (
                    f" AND (v.cause_department_id IS NULL OR v.cause_department_id IN ({scope}))"
                )
        elif name in ORGANISATION_VIEWS:
            where = "true"
        else:
            return None  # not known to be organisation-wide: closed, not open
        source = _findings(name, scope) if name in ("findings", "snapshot_findings") else "{source}"
        return f"SELECT {select} FROM {source} AS v WHERE {where}"


@dataclass(frozen=True)
class Access:
    """One reader's role, departments and why they have them."""

    role: Role
    departments: tuple[str, ...] | None
    who: str
    because: str
    contact: str = ""  # whom to ask for more

    @property
    def visibility(self) -> Visibility:
        return Visibility(self.departments, self.role.raw_records)

    def may_open(self, page: str) -> bool:
        return page in self.role.pages

    def describe(self) -> str:
        """'analyst, Billing and Claims only' for the sidebar."""
        where = f", {', '.join(self.departments)} only" if self.departments else ""
        return f"{self.role.name.replace('_', ' ')}{where}"


#: Without sign-in configured the dashboard serves one person on this machine (loopback only).
LOCAL = Access(ROLES["data_owner"], None, "local mode", "no sign-in configured")


@dataclass(frozen=True)
class Grant:
    """One entry of the access file: who it matches and what it gives."""

    match: str  # email, domain or group
    value: str
    role: Role
    departments: tuple[str, ...] | None
    line: int
    department_lines: tuple[int, ...] = ()

    def matches(self, emails: Sequence[str], groups: Sequence[str]) -> bool:
        if self.match == "email":
            return self.value in emails
        if self.match == "domain":
            return any(e.rpartition("@")[2] == self.value for e in emails)
        return self.value in groups


@dataclass(frozen=True)
class AccessFile:
    """The parsed access file."""

    path: Path
    contact: str
    grants: tuple[Grant, ...]
    groups_claim: str = "groups"
    email_verified: str = "required"  # or "optional": an absent claim vouches too

    def resolve(self, user: Mapping) -> Access | None:
        """The access of a signed-in user (their ID token's claims), None if nothing matches.

        Only claims of the right type and shape take part (tests/security/test_sign_in_claims.py):
        a string "false" is not a verified e-mail, nor a string a list of groups.
        """
        email = self.verified_email(user)
        emails = [email] if email else []
        groups = _groups(user.get(self.groups_claim))
        for grant in self.grants:
            if grant.matches(emails, groups):
                because = f"{self.path.name}:{grant.line} ({grant.match} {grant.value})"
                name = email or who(user)
                return Access(grant.role, grant.departments, name, because, self.contact)
        return None

    def verified_email(self, user: Mapping) -> str | None:
        """The e-mail address that may match e-mail and domain grants, None if none may.

        Anyone can type an address into an account they create, so only the JSON boolean
        true in `email_verified` vouches for it; with `email_verified: optional` in the
        access file, an absent claim does too (for providers that never send it).
        """
        said = user.get("email_verified", _ABSENT)
        if said is not True and not (said is _ABSENT and self.email_verified == "optional"):
            return None
        return _address(user.get("email"))

    def unused_claims(self, user: Mapping) -> list[str]:
        """Why the e-mail or groups sent took no part in matching, for the access log."""
        reasons = []
        if user.get("email") is not None and self.verified_email(user) is None:
            said = user.get("email_verified", _ABSENT)
            reasons.append(
                "e-mail not used: "
                + (
                    "no email_verified claim"
                    if said is _ABSENT
                    else f"email_verified is {said!r}, not true"
                    if said is not True
                    else "not one plain address"
                )
            )
        claimed = user.get(self.groups_claim)
        if claimed is not None and not _groups(claimed):
            reasons.append(f"'{self.groups_claim}' not used: not a list of names")
        return reasons

    def check_departments(self, known: Mapping[str, str]) -> None:
        """Every department named is in the warehouse; else the first unknown, by line."""
        for grant in self.grants:
            for department, at in zip(grant.departments or (), grant.department_lines, strict=True):
                if department not in known:
                    listed = ", ".join(f"{k} ({v})" for k, v in sorted(known.items()))
                    fail(
                        self.path,
                        at,
                        f"unknown department '{cut(department)}':"
                        f" the warehouse has {cut(listed, 200)}",
                    )


_ABSENT = object()
#: One address: no second @, no blanks or separators that could smuggle another one in.
_PART = r"[^@\s,;:<>()\[\]\\\"]+"
_ADDRESS = re.compile(rf"{_PART}@{_PART}\.{_PART}")


def _address(claimed: object) -> str | None:
    """The claim as one lower-case e-mail address, None if it is anything else."""
    if not isinstance(claimed, str):
        return None
    address = claimed.strip().lower()
    return address if address.isprintable() and _ADDRESS.fullmatch(address) else None


def _groups(claimed: object) -> list[str]:
    """The groups claim when it is a list of names; any other shape gives no group."""
    if isinstance(claimed, list | tuple) and all(isinstance(g, str) for g in claimed):
        return list(claimed)
    return []


def who(user: Mapping) -> str:
    """The signed-in person as the dashboard names them: e-mail, else name, else subject."""
    for claim in ("email", "name", "sub"):
        if isinstance(user.get(claim), str) and user[claim].strip():
            return user[claim].strip()
    return "unknown"


_TOP = ("contact", "groups_claim", "email_verified", "grants")
#: What `email_verified` may say in the access file.
EMAIL_VERIFIED = ("required", "optional")
_GRANT = ("email", "domain", "group", "role", "departments")


def parse(path: Path) -> AccessFile:
    """Read and check an access file; every problem names the file and line."""
    _, root = compose(path, "the access file")
    top = mapping(path, root, "the access file", _TOP)
    for key in ("contact", "grants"):
        if key not in top:
            what = "who to ask for access" if key == "contact" else "the list of grants"
            fail(path, line(root), f"'{key}' is missing: {what}")
    contact, at = scalar(path, top["contact"])
    if not str(contact or "").strip():
        fail(path, at, "'contact' is empty: say who people without access should ask")
    claim = str(scalar(path, top["groups_claim"])[0]) if "groups_claim" in top else "groups"
    verified = _email_verified(path, top)
    node, at = top["grants"]
    if not getattr(node, "value", None):
        fail(path, at, "'grants' is empty: nobody could see anything")
    grants = tuple(_grant(path, item) for item in node.value)
    seen: dict[tuple[str, str], int] = {}
    for grant in grants:
        first = seen.setdefault((grant.match, grant.value), grant.line)
        if first != grant.line:
            fail(
                path,
                grant.line,
                f"{grant.match} '{cut(grant.value)}' is granted already on line {first}; "
                "the first matching grant wins, so this one would never apply",
            )
    return AccessFile(path, str(contact).strip(), grants, claim, verified)


def _email_verified(path: Path, top: dict) -> str:
    """`required` unless the file says `optional` (its provider never sends the claim)."""
    if "email_verified" not in top:
        return "required"
    said, at = scalar(path, top["email_verified"])
    if said not in EMAIL_VERIFIED:
        fail(path, at, f"'email_verified' is '{said}': write required or optional")
    return str(said)


def _grant(path: Path, node) -> Grant:
    entries = mapping(path, node, "a grant", _GRANT)
    who = [k for k in ("email", "domain", "group") if k in entries]
    if len(who) != 1:
        fail(path, line(node), "a grant names exactly one of email, domain or group")
    match = who[0]
    value, at = scalar(path, entries[match])
    value = str(value or "").strip()
    if match != "group":
        value = value.lower()
    if match == "email" and ("@" not in value or value.startswith("@")):
        fail(path, at, f"'{cut(value)}' is not an e-mail address")
    if match == "domain" and ("@" in value or "." not in value):
        fail(path, at, f"'{cut(value)}' is not a domain (example.com, without @)")
    if not value:
        fail(path, at, f"'{match}' is empty")
    if "role" not in entries:
        fail(path, line(node), f"the grant for {match} '{cut(value)}' has no role")
    role_name, at = scalar(path, entries["role"])
    if role_name not in ROLES:
        fail(path, at, f"unknown role '{cut(role_name)}' (one of {', '.join(ROLES)})")
    role = ROLES[str(role_name)]
    departments, lines = None, ()
    if "departments" in entries:
        listed = sequence(path, entries["departments"], "departments")
        if not listed:
            fail(path, entries["departments"][1], "'departments' is empty: leave it out for all")
        if role.raw_records:
            fail(
                path,
                entries["departments"][1],
                f"a {role.name} sees quarantined rows of every department and cannot be "
                "limited to departments; grant analyst for a department",
            )
        for value_, at_ in listed:
            if not isinstance(value_, str) or not value_.strip():
                fail(path, at_, f"{cut(repr(value_))} is not a department id")
        departments = tuple(str(v).strip() for v, _ in listed)
        lines = tuple(at_ for _, at_ in listed)
    return Grant(match, value, role, departments, line(node), lines)


def configured() -> Path | None:
    """The access file named by $CXKPI_ACCESS (set by `cxkpi serve --access`)."""
    return settings.ACCESS.get()
