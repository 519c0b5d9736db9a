"""The access file: every mistake named by file and line, grants resolved in order."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.config_file import ConfigError
from etl.warehouse.access import ROLES, Visibility, parse

GOOD = """\
contact: Maria Lopez, CX analytics (maria@example.com)
groups_claim: roles
grants:
  - email: Head.Billing@Example.com
    role: analyst
    departments: [BIL, CLM]
  - group: cx-board
    role: board
  - domain: example.com
    role: executive
  - email: owner@partner.org
    role: data_owner
"""

#: What a provider that checked the address sends with it.
VERIFIED = {"email_verified": True}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "access.yml"
    path.write_text(text)
    return path


@pytest.fixture
def rules(tmp_path: Path):
    return parse(write(tmp_path, GOOD))


def test_first_matching_grant_decides(rules):
    head = rules.resolve({**VERIFIED, "email": "head.billing@example.com", "roles": ["cx-board"]})
    assert (head.role.name, head.departments) == ("analyst", ("BIL", "CLM"))
    assert head.because == "access.yml:4 (email head.billing@example.com)"
    assert head.contact == "Maria Lopez, CX analytics (maria@example.com)"
    board = rules.resolve({**VERIFIED, "email": "chair@example.com", "roles": ["cx-board"]})
    assert board.role.name == "board" and board.departments is None
    assert rules.resolve({**VERIFIED, "email": "someone@EXAMPLE.com"}).role.name == "executive"
    assert rules.resolve({**VERIFIED, "email": "owner@partner.org"}).role.name == "data_owner"


def test_no_match_is_no_access(rules):
    assert rules.resolve({"email": "stranger@elsewhere.org", "roles": ["cx-analysts"]}) is None
    assert rules.resolve({"sub": "1234"}) is None
    # A look-alike domain is not the domain.
    assert rules.resolve({**VERIFIED, "email": "mallory@notexample.com"}) is None


def test_an_unverified_email_matches_no_email_or_domain(rules):
    assert rules.resolve({"email": "head.billing@example.com", "email_verified": False}) is None
    claims = {"email": "x@example.com", "email_verified": False, "roles": ["cx-board"]}
    board = rules.resolve(claims)
    assert board.role.name == "board"


def test_groups_are_read_from_the_named_claim(rules):
    assert rules.resolve({"email": "chair@elsewhere.org", "groups": ["cx-board"]}) is None


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        (GOOD.replace("role: board", "role: borad"), 8, "unknown role 'borad'"),
        (GOOD.replace("groups_claim", "group_claim"), 2, "unknown key 'group_claim'"),
        (GOOD.replace("    role: board", "    email: a@b.org\n    role: board"), 7, "exactly one"),
        (GOOD.replace("role: data_owner", "role: data_owner\n    departments: [BIL]"), 13,
         "cannot be limited to departments"),
        (GOOD.replace("owner@partner.org", "owner.partner.org"), 11, "not an e-mail address"),
        (GOOD.replace("domain: example.com", "domain: '@example.com'"), 9, "not a domain"),
        (GOOD + "  - group: cx-board\n    role: analyst\n", 13, "already on line 7"),
        (GOOD.replace("    role: executive\n", ""), 9, "has no role"),
        (GOOD.replace("departments: [BIL, CLM]", "departments: []"), 6, "'departments' is empty"),
        (GOOD.replace("contact: Maria Lopez, CX analytics (maria@example.com)", "contact: ''"), 1,
         "'contact' is empty"),
        ("contact: me\ngrants: []\n", 2, "nobody could see anything"),
        ("grants:\n  - email: a@b.org\n    role: board\n", 1, "'contact' is missing"),
        ("contact: me\ngrants:\n  - email: [a@b.org\n", 4, "not valid YAML"),
    ],
)  # fmt: skip
def test_every_mistake_names_file_and_line(tmp_path, text, line, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        parse(path)
    assert str(error.value).startswith(f"{path}:{line}: ")
    assert problem in str(error.value)


def test_departments_are_checked_against_the_warehouse(rules):
    rules.check_departments({"BIL": "Billing", "CLM": "Claims"})
    with pytest.raises(ConfigError) as error:
        rules.check_departments({"BIL": "Billing", "COL": "Collections"})
    assert str(error.value).endswith(
        "access.yml:6: unknown department 'CLM': the warehouse has BIL (Billing), COL (Collections)"
    )


def test_roles_add_to_each_other():
    board, executive, analyst, owner = (ROLES[r] for r in ROLES)
    assert board.pages == {"overview", "board_snapshots"}
    assert board.pages < executive.pages < analyst.pages == owner.pages
    assert "sql_workbench" not in executive.pages and not executive.sql
    assert analyst.sql and not analyst.raw_records and owner.raw_records


@pytest.mark.parametrize(
    ("name", "columns", "expected"),
    [
        ("department_month", ["month", "department_id"],
         "SELECT * FROM {source} AS v WHERE \"department_id\" IN ('BIL', 'O''K', 'ALL', '*')"),
        ("int_case_outcomes", ["first_department_id"],
         "SELECT * FROM {source} AS v"
         " WHERE \"first_department_id\" IN ('BIL', 'O''K', 'ALL', '*')"),
        ("filter_values", ["filter", "value"],
         "SELECT * REPLACE (CASE WHEN filter = 'channel' THEN NULL ELSE detail END AS detail)"
         " FROM {source} AS v WHERE filter <> 'department'"
         " OR value IN ('BIL', 'O''K', 'ALL', '*')"),
        ("source_freshness", ["source", "rows_loaded"], "SELECT * FROM {source} AS v WHERE true"),
        ("snapshot_packs", ["snapshot_id", "pdf"], None),
        ("quarantine", ["file", "raw_record"], None),
        ("a_new_view", ["month", "team"], None),
    ],
)  # fmt: skip
def test_a_scoped_reader_sees_own_departments_and_totals_and_nothing_unknown(
    name, columns, expected
):
    assert Visibility(("BIL", "O'K"), False).expose(name, columns) == expected


def test_raw_records_are_blanked_without_the_right():
    assert Visibility(None, False).expose("quarantine", ["row_number", "raw_record"]) == (
        "SELECT * REPLACE (NULL::JSON AS raw_record) FROM {source}"
    )
    assert Visibility(None, True).expose("quarantine", ["raw_record"]) == "SELECT * FROM {source}"
