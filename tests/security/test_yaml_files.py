"""Profiles and access files: a YAML file never costs more than its size, nor runs a tag.

Aliases are refused (a 0.4 KB file of nested aliases once took 431 MB and printed 80 MB),
any tag beyond YAML's plain types is refused in one line, and a value echoed in a message is
cut short. docs/security.md, "Files cxkpi reads".
"""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path

import pytest

from etl.config_file import ConfigError
from etl.contract import profiles
from etl.warehouse import access
from tests.conftest import invoke_cxkpi

PROFILE = """source: departments
columns:
  department_id: id
  name: title
  function: kind
  headcount: staff
"""
ACCESS = """contact: it@example.com
grants:
  - domain: example.com
    role: analyst
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _refusal(parse, path: Path) -> str:
    """The one-line message a file is refused with, with the peak memory it took to say so."""
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError) as refused:
            parse(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(refused.value)
    assert "\n" not in message
    assert len(message) < 400, message[:200]
    assert peak < 20_000_000, f"reading the file took {peak:,} bytes"
    return message


def _chain(levels: int = 7) -> list[str]:
    """Nested aliases, each level listing the one before ten times: 10**levels at the end."""
    return ["&c0 [lol]"] + [
        f"&c{n} [" + ", ".join([f"*c{n - 1}"] * 10) + "]" for n in range(1, levels)
    ]


ACCESS_BOMB = ACCESS.replace(
    "role: analyst", f"role: analyst\n    departments: [FL, [{', '.join(_chain())}]]"
)
PROFILE_BOMB = PROFILE.replace(
    "name: title",
    "name: {column: title, values: {"
    + ", ".join(f"l{n}: {item}" for n, item in enumerate(_chain()))
    + "}}",
)


@pytest.mark.parametrize(
    "parse, text",
    [
        (access.parse, ACCESS_BOMB),
        (access.parse, ACCESS.replace("role: analyst", "role: analyst\n    departments: *nope")),
        (profiles.parse, PROFILE_BOMB),
        (profiles.parse, PROFILE.replace("name: title", "name: &t title") + "description: *t\n"),
    ],
    ids=["access-bomb", "access-undefined-alias", "profile-bomb", "profile-one-alias"],
)
def test_aliases_are_refused_by_line_before_they_expand(tmp_path: Path, parse, text: str) -> None:
    message = _refusal(parse, _write(tmp_path, "file.yml", text))
    where, _, problem = message.partition("file.yml:")
    assert "alias" in problem or "anchor" in problem


TAGS = [
    "!!python/name:os.system",
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!custom thing",
    "!!binary aGVsbG8=",
]


@pytest.mark.parametrize("tag", TAGS)
@pytest.mark.parametrize("kind", ["access", "profile"])
def test_any_tag_beyond_plain_values_is_one_line_and_runs_nothing(
    tmp_path: Path, kind: str, tag: str
) -> None:
    marker = tmp_path / "ran"
    value = tag.format(marker=marker)
    if kind == "access":
        parse, text = access.parse, ACCESS.replace("role: analyst", f"role: {value}")
    else:
        parse, text = profiles.parse, PROFILE.replace("name: title", f"name: {value}")
    message = _refusal(parse, _write(tmp_path, "tagged.yml", text))
    assert "tag" in message.partition("tagged.yml:")[2]
    assert not marker.exists()


def test_plain_tags_still_read(tmp_path: Path) -> None:
    text = ACCESS.replace("role: analyst", "role: !!str analyst")
    assert access.parse(_write(tmp_path, "plain.yml", text)).grants[0].role.name == "analyst"


LONG = "x" * 20_000


@pytest.mark.parametrize(
    "parse, text",
    [
        (access.parse, ACCESS.replace("role: analyst", f"role: {LONG}")),
        (access.parse, ACCESS.replace("domain: example.com", f"email: {LONG}")),
        (access.parse, ACCESS.replace("analyst", f"analyst\n    departments: [{LONG}, 1]")),
        (access.parse, ACCESS.replace("domain: example.com", f"{LONG}: 1")),
        (profiles.parse, PROFILE.replace("departments", LONG)),
        (profiles.parse, PROFILE.replace("name: title", f"{LONG}: title")),
        (profiles.parse, PROFILE + f"read:\n  delimiter: {LONG}\n"),
        (profiles.parse, PROFILE + f"read:\n  encoding: {LONG}\n"),
        (profiles.parse, PROFILE.replace("name: title", f"name: {{expression: '{LONG} +'}}")),
        (profiles.parse, PROFILE.replace("name: title", f"name: '{LONG}")),
    ],
    ids=[
        "role", "email", "department", "key", "source", "column", "delimiter", "encoding",
        "expression", "unclosed-quote",
    ],
)  # fmt: skip
def test_a_value_in_a_message_is_cut_short(tmp_path: Path, parse, text: str) -> None:
    message = _refusal(parse, _write(tmp_path, "long.yml", text))
    assert "long.yml:" in message


@pytest.mark.parametrize("parse", [access.parse, profiles.parse], ids=["access", "profile"])
def test_deep_nesting_is_refused_in_one_line(tmp_path: Path, parse) -> None:
    text = "contact: " + "[" * 5000 + "]" * 5000 + "\n"
    message = _refusal(parse, _write(tmp_path, "deep.yml", text))
    assert "nested" in message.partition("deep.yml:")[2]


@pytest.mark.parametrize("parse", [access.parse, profiles.parse], ids=["access", "profile"])
def test_a_file_far_larger_than_any_profile_is_refused_unread(tmp_path: Path, parse) -> None:
    text = ACCESS + "".join(f"# filler line {n} {'.' * 80}\n" for n in range(30_000))
    message = _refusal(parse, _write(tmp_path, "big.yml", text))
    assert "larger than" in message


def test_a_fifo_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "access.yml"
    os.mkfifo(fifo)
    message = _refusal(access.parse, fifo)
    assert "not a regular file" in message


@pytest.mark.parametrize(
    "args, text",
    [
        (["access", "check"], ACCESS.replace("role: analyst", "role: !!python/name:os.system")),
        (["access", "check"], ACCESS_BOMB),
        (["profile", "check"], PROFILE.replace("name: title", "name: !!python/name:os.system")),
    ],
    ids=["access-tag", "access-bomb", "profile-tag"],
)
def test_the_cli_says_one_line_and_no_traceback(tmp_path: Path, args, text: str) -> None:
    path = _write(tmp_path, "cli.yml", text)
    result = invoke_cxkpi("--db", str(tmp_path / "none.duckdb"), *args, str(path))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") <= 2 and len(result.stderr) < 500, result.stderr[:300]
    assert "cli.yml:" in result.stderr
