"""Sign-in claims of the wrong type or shape never count as true (docs/access.md, Matching)."""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.config_file import ConfigError
from etl.warehouse.access import parse

ACCESS = """\
contact: Maria Lopez, CX analytics
grants:
  - email: owner@example.com
    role: data_owner
  - domain: example.org
    role: executive
  - group: cx-board
    role: board
"""
VERIFIED = {"email_verified": True}


def rules(tmp_path: Path, text: str = ACCESS):
    path = tmp_path / "access.yml"
    path.write_text(text)
    return parse(path)


@pytest.mark.parametrize(
    "claim", ["false", "False", "no", "0", "true", "yes", 0, 1, None, [], [True], {}, 1.0]
)
@pytest.mark.parametrize("email", ["owner@example.com", "anyone@example.org"])
def test_only_the_json_boolean_true_verifies_an_email(tmp_path, claim, email):
    assert rules(tmp_path).resolve({"email": email, "email_verified": claim}) is None


def test_a_verified_email_matches_its_grants(tmp_path):
    found = rules(tmp_path)
    assert found.resolve({"email": "Owner@Example.com", **VERIFIED}).role.name == "data_owner"
    assert found.resolve({"email": "someone@example.org", **VERIFIED}).role.name == "executive"


def test_an_absent_email_verified_matches_no_email_or_domain_by_default(tmp_path):
    found = rules(tmp_path)
    assert found.resolve({"email": "owner@example.com"}) is None
    assert found.resolve({"email": "anyone@example.org"}) is None
    assert found.resolve({"email": "anyone@example.org", "groups": ["cx-board"]}).role.name == (
        "board"
    )


def test_an_access_file_may_accept_emails_its_provider_never_marks(tmp_path):
    found = rules(tmp_path, "email_verified: optional\n" + ACCESS)
    assert found.resolve({"email": "owner@example.com"}).role.name == "data_owner"
    # Said to be unverified, in any spelling, is still unverified.
    for said in (False, "false", 0, None):
        assert found.resolve({"email": "owner@example.com", "email_verified": said}) is None


def test_an_unknown_email_verified_setting_is_refused_by_line(tmp_path):
    with pytest.raises(ConfigError, match=r"access.yml:2: .*'email_verified' is 'maybe'"):
        rules(tmp_path, "contact: Maria\nemail_verified: maybe\n" + ACCESS.split("\n", 1)[1])


@pytest.mark.parametrize(
    "email",
    [
        ["owner@example.com"],
        {"owner@example.com": True},
        "owner@example.com\nadmin@example.com",
        "owner@example.com admin",
        "mallory@evil.test@example.org",
        "mallory@evil.test,anyone@example.org",
        "@example.org",
        "owner@example.com\x00",
    ],
)
def test_an_email_claim_of_the_wrong_shape_matches_nothing(tmp_path, email):
    assert rules(tmp_path).resolve({"email": email, **VERIFIED}) is None


@pytest.mark.parametrize(
    "groups",
    ["cx-board", {"cx-board": True}, ["cx-board", 1], [["cx-board"]], [{"cx-board": 1}], 7],
)
def test_a_groups_claim_of_the_wrong_shape_matches_nothing(tmp_path, groups):
    assert rules(tmp_path).resolve({"email": "x@elsewhere.test", "groups": groups}) is None


def test_a_list_of_group_names_matches(tmp_path):
    found = rules(tmp_path).resolve({"sub": "1", "groups": ["staff", "cx-board"]})
    assert found.role.name == "board"
