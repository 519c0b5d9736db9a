"""One way to say an error in one line, used everywhere a message quotes an error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from etl.errors import first_line

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("message", "limit", "expected"),
    [
        ("Binder Error: no column x\n\nLINE 1: SELECT x", 300, "Binder Error: no column x"),
        ("\n   \n  the real reason  \nmore", 300, "the real reason"),
        ("x" * 500, 300, "x" * 300),
        ("abcdef", 3, "abc"),
    ],
)
def test_the_first_line_that_says_something_cut_to_the_limit(message, limit, expected):
    assert first_line(ValueError(message), limit) == expected


def test_an_empty_message_is_the_error_s_type():
    assert first_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("  \n ")) == "RuntimeError"


def test_no_module_keeps_its_own_copy():
    copies = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("etl", "dashboard")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.match(r"\s*def _?first_line\(", line) and path != ROOT / "etl" / "errors.py"
    ]
    assert copies == []
