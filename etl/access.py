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

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from etl.config_file import compose, cut, fail, line, mapping, scalar, sequence
from etl.sqltext import literal

#: The dashboard's pages, by the name in their URL.
PAGES = (
    "overview",
    "conflicts",
    "departments",
    "employee_voice",
    "initiatives",
    "data_quality",
    "sql_workbench",
    "board_snapshots",
)
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
             "as analyst, plus quarantined rows as they were sent"),
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
    }
)
#: Never exposed to the dashboard: individual engagement answers (SPEC 7), raw and load tables.
HIDDEN_PREFIXES = ("raw_", "meta_")
HIDDEN = frozenset({"stg_engagement_responses"})
#: Columns of organisation rows that name the departments behind a figure: a reader limited to
#: departments sees them empty, and the sentence without its `drivers` clause.
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
    " ELSE replace(explanation, ': ' || drivers || '.', '.') END AS explanation{nulls})"
)
#: The department rows of a view include these organisation-wide ones.
EVERY_DEPARTMENT = ("ALL", "*")


class Visibility(NamedTuple):
    """The part of the warehouse a reader sees (hashable: connections are cached by it)."""

    departments: tuple[str, ...] | None = None  # None: every department
    raw_records: bool = True

    def expose(self, name: str, columns: Sequence[str]) -> str | None:
        """The SELECT list and filter over the view `name` this reader sees, with `{source}`
        standing for the view; None hides the view."""
        select = "*"
        if "raw_record" in columns and not self.raw_records:
            select = "* REPLACE (NULL::JSON AS raw_record)"
        if self.departments is None:
            return f"SELECT {select} FROM {{source}}"
        if "drivers" in columns:  # organisation sentences that name other departments
            select = _WITHOUT_DRIVERS.format(
                nulls="".join(f", NULL AS {c}" for c in columns if c in _DRIVER_COLUMNS)
            )
        key = next((c for c in columns if c == "department_id"), None) or next(
            (c for c in columns if c.endswith("department_id")), None
        )
        wanted = ", ".join(literal(d) for d in (*self.departments, *EVERY_DEPARTMENT))
        if name == "filter_values":
            where = f"filter <> 'department' OR value IN ({wanted})"
        elif name in ("snapshot_packs", "quarantine"):
            return None  # a pack holds every department; raw rows may belong to any
        elif key:
            where = f'"{key}" IN ({wanted})'
        elif name in ORGANISATION_VIEWS:
            where = "true"
        else:
            return None  # not known to be organisation-wide: closed, not open
        return f"SELECT {select} FROM {{source}} WHERE {where}"


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

    def resolve(self, user: Mapping) -> Access | None:
        """The access of a signed-in user (their ID token's claims), None if nothing matches.

        An e-mail the provider says is not verified (email_verified false) matches no e-mail
        or domain grant: anyone can type an address into an account they create.
        """
        email = str(user.get("email") or "").strip().lower()
        emails = [email] if email and user.get("email_verified", True) is not False else []
        claimed = user.get(self.groups_claim) or []
        groups = [claimed] if isinstance(claimed, str) else [str(g) for g in claimed]
        who = email or str(user.get("name") or user.get("sub") or "unknown")
        for grant in self.grants:
            if grant.matches(emails, groups):
                because = f"{self.path.name}:{grant.line} ({grant.match} {grant.value})"
                return Access(grant.role, grant.departments, who, because, self.contact)
        return None

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


_TOP = ("contact", "groups_claim", "grants")
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
    return AccessFile(path, str(contact).strip(), grants, claim)


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
    named = os.environ.get("CXKPI_ACCESS")
    return Path(named) if named else None
