"""Personal details leave a comment before any table holds it: one case list per kind."""

from __future__ import annotations

import re

import polars as pl
import pytest

from etl.analyses.redaction import redact, redact_text

MARKERS = re.compile(r"\[(email|card|phone|number|name)\]")


def _gone(comment: str, secret: str, marker: str | None = None) -> str:
    shown = redact_text(comment)
    assert secret not in shown, shown
    found = MARKERS.findall(shown)
    assert found, shown
    if marker:
        assert marker in found, shown
    return shown


@pytest.mark.parametrize(
    ("comment", "secret"),
    [
        ("Email me at john.smith@example.co.uk please", "john.smith"),
        ("contact: a_b+cx@mail-host.org.", "mail-host"),
        ("write to ann (at) mail dot com", "ann"),
        ("MY EMAIL IS JO@EXAMPLE.COM", "EXAMPLE"),
    ],
)
def test_email_addresses_are_replaced(comment, secret):
    _gone(comment, secret, "email")


@pytest.mark.parametrize(
    ("comment", "secret"),
    [
        ("call me on 07700 900123", "900123"),
        ("ring 020 7946 0958 after 5", "7946"),
        ("my number is +44 20 7946 0958", "7946"),
        ("tel 0161-496-0000", "496"),
        ("phone (0161) 496 0000 any time", "496"),
        ("mobile 07700900123", "900123"),
    ],
)
def test_phone_numbers_are_replaced(comment, secret):
    _gone(comment, secret, "phone")


@pytest.mark.parametrize(
    ("comment", "secret"),
    [
        ("My card 4111 1111 1111 1111 was charged twice", "1111"),
        ("card 4111-1111-1111-1111", "4111"),
        ("card no 4111111111111111", "4111"),
    ],
)
def test_card_numbers_are_replaced(comment, secret):
    _gone(comment, secret, "card")


@pytest.mark.parametrize(
    ("comment", "secret"),
    [
        ("my account number is 12345678", "12345678"),
        ("ref AC-998877 still open", "998877"),
        ("policy PL/2231/77", "2231"),
        ("claim ref CLM123456", "123456"),
        ("account 55443", "55443"),
    ],
)
def test_account_and_reference_numbers_are_replaced(comment, secret):
    _gone(comment, secret)


@pytest.mark.parametrize(
    ("comment", "secret"),
    [
        ("my name is Joan Smith and I waited", "Joan"),
        ("My name is Joan Smith and I waited", "Smith"),
        ("I spoke to Raj who was great", "Raj"),
        ("Mrs Patel was rude", "Patel"),
        ("Thanks, Ann Lee", "Ann"),
        ("Regards Tom", "Tom"),
        ("great service - Priya", "Priya"),
        ("the agent called Darren hung up", "Darren"),
        ("ask for Mr. O'Neil next time", "O'Neil"),
    ],
)
def test_names_after_a_cue_are_replaced(comment, secret):
    _gone(comment, secret, "name")


@pytest.mark.parametrize(
    "comment",
    [
        "waited 40 minutes on 3 October 2026, still not sorted",
        "I called 3 times in 2 weeks about a £120 charge",
        "The app crashed. Thanks",
        "This is ridiculous",
        "Billing sent me to Claims and back",
    ],
)
def test_text_without_personal_details_stays_as_written(comment):
    assert redact_text(comment) == comment


def test_a_column_is_redacted_in_one_pass_and_nulls_stay_null():
    frame = pl.DataFrame({"c": ["mail a@b.com", None, "fine"]})
    assert frame.select(redact(pl.col("c")))["c"].to_list() == ["mail [email]", None, "fine"]
