"""The settings: declared once in etl/settings.py, read when asked, documented in docs/cli.md.

As with a documentation test, these fail when a declared setting is missing from the docs'
table, when the docs (or the code) name a CXKPI_ variable that is not declared, and when a
module other than etl/settings.py reads or writes a CXKPI_ variable in os.environ itself.
"""

from __future__ import annotations

import ast
import re
import socket
import sys
from pathlib import Path

import pytest

from etl import settings
from etl.settings import SETTINGS, SettingError

ROOT = Path(__file__).resolve().parents[2]
#: Where first-party Python lives; the scan reads every .py file under these.
SOURCE = ("etl", "dashboard", "benchmarks", "tests")
#: Built, not written, so this file does not name an undeclared variable itself.
PREFIX = "CXKPI" + "_"
NAME = re.compile(PREFIX + r"[A-Z0-9_]*")
DECLARED = {s.name for s in SETTINGS}


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    """No CXKPI_ variable from outside, and every one put back after the test (a command run
    in-process hands values over by writing os.environ itself)."""
    for name in DECLARED:
        monkeypatch.delenv(name, raising=False)


def python_files() -> list[Path]:
    return sorted(p for folder in SOURCE for p in (ROOT / folder).rglob("*.py"))


def documented() -> dict[str, str]:
    """The docs' table of settings: variable -> default cell."""
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(" + PREFIX + r"\w+)` \| ([^|]+) \|", section, re.MULTILINE)
    return {name: default.strip() for name, default in rows}


# The documentation tests.


def test_every_setting_is_declared_once_with_a_meaning_and_a_rule():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names)), "a setting is declared twice"
    for setting in SETTINGS:
        assert setting.name.startswith(PREFIX) and NAME.fullmatch(setting.name)
        assert setting.meaning.strip() and "\n" not in setting.meaning
        assert setting.rule.strip()
        setting.default_value  # noqa: B018  (a default must follow its own rule)


def test_every_setting_is_in_the_docs_table_with_its_default():
    table = documented()
    missing = sorted(DECLARED - table.keys())
    assert not missing, f"declared in etl/settings.py but not in docs/cli.md's table: {missing}"
    for setting in SETTINGS:
        shown = f"`{setting.default}`" if setting.default is not None else "unset"
        assert table[setting.name] == shown, f"{setting.name}: docs say {table[setting.name]}"


def test_the_docs_table_lists_no_setting_that_does_not_exist():
    unknown = sorted(documented().keys() - DECLARED)
    assert not unknown, f"docs/cli.md's table lists settings etl/settings.py lacks: {unknown}"


def mentions(text: str) -> set[str]:
    """The CXKPI_ variables a text names. `CXKPI_SQL_*` names a family, which must hold a
    declared setting; the prefix alone ("a CXKPI_ variable") names none."""
    found = set()
    for match in NAME.finditer(text):
        name = match[0]
        if name == PREFIX:
            continue
        if name.endswith("_") and text[match.end() : match.end() + 1] == "*":
            if not any(d.startswith(name) for d in DECLARED):
                found.add(name + "*")
            continue
        found.add(name)
    return found


def test_the_docs_and_the_code_name_only_settings_that_exist():
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *python_files()]
    unknown = sorted(
        f"{path.relative_to(ROOT)}: {name}"
        for path in texts
        for name in mentions(path.read_text(encoding="utf-8")) - DECLARED
    )
    assert not unknown, f"named but not declared in etl/settings.py: {unknown}"


def test_mentions_tells_a_variable_from_a_family():
    assert mentions(f"${PREFIX}DB and {PREFIX}SQL_* limits, a {PREFIX} one") == {f"{PREFIX}DB"}
    assert mentions(f"{PREFIX}NOPE_* and {PREFIX}NOPE") == {f"{PREFIX}NOPE_*", f"{PREFIX}NOPE"}


# The source scan: only etl/settings.py touches CXKPI_ variables in os.environ.


def _is_environ(node: ast.AST) -> bool:
    """os.environ, or environ imported from os."""
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def _ours(node: ast.AST | None) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(PREFIX)
    )


def direct_uses(source: str) -> list[str]:
    """Where a module reads or writes a CXKPI_ variable in the environment itself: as
    os.environ[...], os.environ.get/pop/setdefault(...), os.getenv(...), `in os.environ`,
    os.environ.update({...}), or reads it under a name computed at run time."""
    found = []
    for node in ast.walk(ast.parse(source)):
        at = f"line {getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            if _ours(node.slice):
                found.append(f"{at}: os.environ[{node.slice.value!r}]")
            elif not isinstance(node.slice, ast.Constant):
                found.append(f"{at}: os.environ[...] with a computed name")
        elif isinstance(node, ast.Call):
            func, first = node.func, node.args[0] if node.args else None
            getenv = (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
                isinstance(func, ast.Name) and func.id == "getenv"
            )
            method = (
                isinstance(func, ast.Attribute)
                and _is_environ(func.value)
                and func.attr in ("get", "pop", "setdefault", "__getitem__")
            )
            if getenv or method:
                if _ours(first):
                    found.append(f"{at}: reads {first.value} from the environment")
                elif first is not None and not isinstance(first, ast.Constant):
                    found.append(f"{at}: reads the environment under a computed name")
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "update"
                and _is_environ(func.value)
                and any(
                    isinstance(a, ast.Dict) and any(_ours(k) for k in a.keys) for a in node.args
                )
            ):
                found.append(f"{at}: writes a {PREFIX} variable with os.environ.update")
        elif (
            isinstance(node, ast.Compare)
            and _ours(node.left)
            and any(_is_environ(c) for c in node.comparators)
        ):
            found.append(f"{at}: {node.left.value!r} in os.environ")
    return found


def test_no_module_but_the_settings_touches_a_cxkpi_variable_in_the_environment():
    """Reading a variable elsewhere skips its rule and default; writing one elsewhere hides a
    hand-over to the dashboard (tests set variables with monkeypatch.setenv or a child's
    env=, which do not touch this process's os.environ directly)."""
    offenders = [
        f"{path.relative_to(ROOT)} {use}"
        for path in python_files()
        if path != ROOT / "etl" / "settings.py"
        for use in direct_uses(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "use etl/settings.py instead:\n" + "\n".join(offenders)


@pytest.mark.parametrize(
    "line",
    [
        f'x = os.environ.get("{PREFIX}DB")',
        f'x = os.environ.get("{PREFIX}DB", "data/cxkpi.duckdb")',
        f'x = os.environ["{PREFIX}DB"]',
        f'x = os.getenv("{PREFIX}DB")',
        f'x = getenv("{PREFIX}DB")',
        f'x = environ.get("{PREFIX}DB")',
        f'x = "{PREFIX}DB" in os.environ',
        f'os.environ["{PREFIX}DB"] = "x"',
        f'del os.environ["{PREFIX}DB"]',
        f'os.environ.pop("{PREFIX}DB", None)',
        f'os.environ.setdefault("{PREFIX}DB", "x")',
        f'os.environ.update({{"{PREFIX}DB": "x"}})',
        "x = os.environ.get(variable)",
        "x = os.environ[name]",
    ],
)
def test_the_scan_finds_each_way_of_touching_the_environment(line):
    assert direct_uses(f"import os\nfrom os import environ, getenv\n{line}\n")


@pytest.mark.parametrize(
    "line",
    [
        'x = os.environ.get("PYTHONPATH")',
        'env = {**os.environ, "PYTHONPATH": "x"}',
        f'env = {{**os.environ, "{PREFIX}INGEST": "checked"}}',
        f'monkeypatch.setenv("{PREFIX}DB", "x")',
        f'x = settings.DB.get()  # "{PREFIX}DB"',
    ],
)
def test_the_scan_lets_other_uses_be(line):
    assert direct_uses(f"import os\n{line}\n") == []


# Reading: when asked, with the same defaults and precedence as before.


def test_each_setting_is_read_when_asked_not_at_import(monkeypatch):
    assert settings.SQL_MAX_ROWS.get() == 1000
    monkeypatch.setenv("CXKPI_SQL_MAX_ROWS", "12")
    assert settings.SQL_MAX_ROWS.get() == 12
    monkeypatch.setenv("CXKPI_TIMEZONE", "Europe/Amsterdam")
    assert settings.TIMEZONE.get() == "Europe/Amsterdam"


def test_the_defaults_are_the_ones_cxkpi_always_had(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert {s.name: s.get() for s in SETTINGS} == {
        "CXKPI_DB": Path("data/cxkpi.duckdb"),
        "CXKPI_TIMEZONE": "UTC",
        "CXKPI_MEMORY_LIMIT": "2GB",
        "CXKPI_INGEST": "typed",
        "CXKPI_PROFILES": tmp_path / ".config" / "cxkpi" / "profiles",
        "CXKPI_THEMES": None,
        "CXKPI_ACCESS": None,
        "CXKPI_UNSAFE_OPEN": False,
        "CXKPI_SQL_TIMEOUT": 30.0,
        "CXKPI_SQL_MAX_ROWS": 1000,
        "CXKPI_SQL_DOWNLOAD_ROWS": 1_000_000,
        "CXKPI_SQL_MEMORY": "2GB",
        "CXKPI_CURRENCY": "EUR",
        "CXKPI_SNAPSHOT_BY": None,
        "CXKPI_SCREENSHOTS": None,
    }


def test_an_empty_value_counts_as_unset(monkeypatch):
    for setting in SETTINGS:
        monkeypatch.setenv(setting.name, " ")
        assert setting.get() == setting.default_value


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CXKPI_SQL_TIMEOUT", "2.5", 2.5),
        ("CXKPI_SQL_MAX_ROWS", " 50 ", 50),
        ("CXKPI_SQL_MEMORY", "512MB", "512MB"),
        ("CXKPI_MEMORY_LIMIT", "80%", "80%"),
        ("CXKPI_MEMORY_LIMIT", "1.5GiB", "1.5GiB"),
        ("CXKPI_INGEST", "Checked", "checked"),
        ("CXKPI_UNSAFE_OPEN", "1", True),
        ("CXKPI_UNSAFE_OPEN", "false", False),
        ("CXKPI_ACCESS", "access.yml", Path("access.yml")),
    ],
)
def test_good_values(monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    assert {s.name: s for s in SETTINGS}[name].get() == expected


@pytest.mark.parametrize(
    ("name", "value", "rule"),
    [
        ("CXKPI_SQL_TIMEOUT", "soon", "a number of seconds above 0"),
        ("CXKPI_SQL_TIMEOUT", "0", "a number of seconds above 0"),
        ("CXKPI_SQL_TIMEOUT", "nan", "a number of seconds above 0"),
        ("CXKPI_SQL_MAX_ROWS", "1.5", "a whole number of 1 or more"),
        ("CXKPI_SQL_DOWNLOAD_ROWS", "0", "a whole number of 1 or more"),
        ("CXKPI_SQL_MEMORY", "lots", "a DuckDB size such as 512MB"),
        ("CXKPI_SQL_MEMORY", "1000", "a DuckDB size such as 512MB"),
        ("CXKPI_MEMORY_LIMIT", "2 gigs", "a DuckDB size such as 512MB"),
        ("CXKPI_TIMEZONE", "Mars/Olympus", "a time zone name such as UTC"),
        ("CXKPI_INGEST", "chekced", "typed or checked"),
        ("CXKPI_UNSAFE_OPEN", "maybe", "1 or 0"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable_and_its_rule(monkeypatch, name, value, rule):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as raised:
        {s.name: s for s in SETTINGS}[name].get()
    message = str(raised.value)
    assert message.startswith(f"{name}={value!r} is not {rule}")
    assert "\n" not in message and message.endswith("(docs/cli.md#settings)")


def test_a_command_line_option_wins_over_its_variable(monkeypatch):
    from etl.warehouse.publish import resolve_db
    from etl.warehouse.sandbox import Limits

    monkeypatch.setenv("CXKPI_DB", "from-env.duckdb")
    monkeypatch.setenv("CXKPI_SQL_TIMEOUT", "5")
    monkeypatch.setenv("CXKPI_SQL_MAX_ROWS", "7")
    assert resolve_db(None) == Path("from-env.duckdb")
    assert resolve_db("given.duckdb") == Path("given.duckdb")
    limits = Limits.from_env(max_rows=3, timeout_seconds=None)
    assert (limits.max_rows, limits.timeout_seconds) == (3, 5.0)
    assert Limits.from_env().max_rows == 7


# The command line: a bad value is one line; serve hands its settings to the dashboard.


def cxkpi(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the cxkpi command in this process; its exit status, output and errors."""
    from etl import cli

    monkeypatch.setattr(sys, "argv", ["cxkpi", *args])
    try:
        cli.main()
        status = 0
    except SystemExit as done:
        status = done.code or 0
    out, err = capsys.readouterr()
    return status, out, err


def test_a_bad_value_stops_a_command_with_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("CXKPI_SQL_TIMEOUT", "soon")
    status, _, err = cxkpi(monkeypatch, capsys, "--db", str(tmp_path / "w.duckdb"), "sql", "1")
    assert status == 1
    assert err == (
        "error: CXKPI_SQL_TIMEOUT='soon' is not a number of seconds above 0"
        " (docs/cli.md#settings)\n"
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def dashboard(monkeypatch, tmp_path):
    """What the dashboard would see when `cxkpi serve` starts Streamlit (not started)."""
    import streamlit.web.cli

    seen: dict = {}

    def fake_streamlit() -> None:
        seen.update({s.name: s.get() for s in settings.DASHBOARD}, argv=list(sys.argv))

    monkeypatch.setattr(streamlit.web.cli, "main", fake_streamlit)
    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml here
    monkeypatch.setenv("HOME", str(tmp_path))  # nor there
    return seen


def test_serve_hands_its_options_to_the_dashboard_over_the_variables(
    monkeypatch, capsys, tmp_path, dashboard
):
    monkeypatch.setenv("CXKPI_SQL_TIMEOUT", "5")
    monkeypatch.setenv("CXKPI_UNSAFE_OPEN", "1")  # left over: this serve is local
    monkeypatch.setenv("CXKPI_SQL_MAX_ROWS", "40")
    db, port = tmp_path / "w.duckdb", free_port()
    status, out, _ = cxkpi(
        monkeypatch, capsys, "--db", str(db), "serve", "--port", str(port), "--sql-timeout", "7"
    )
    assert status == 0 and f"http://127.0.0.1:{port}" in out
    assert dashboard["CXKPI_DB"] == db.resolve()
    assert dashboard["CXKPI_SQL_TIMEOUT"] == 7.0
    assert dashboard["CXKPI_SQL_MAX_ROWS"] == 40
    assert dashboard["CXKPI_UNSAFE_OPEN"] is False
    assert dashboard["CXKPI_ACCESS"] is None
    assert dashboard["argv"][:3] == ["streamlit", "run", str(ROOT / "dashboard" / "app.py")]


def test_serve_checks_the_dashboards_settings_before_it_starts(
    monkeypatch, capsys, tmp_path, dashboard
):
    monkeypatch.setenv("CXKPI_SQL_DOWNLOAD_ROWS", "many")
    args = ("--db", str(tmp_path / "w.duckdb"), "serve", "--port", str(free_port()))
    status, out, err = cxkpi(monkeypatch, capsys, *args)
    assert status == 1 and not dashboard and "cxkpi dashboard:" not in out
    assert err.startswith("error: CXKPI_SQL_DOWNLOAD_ROWS='many' is not a whole number")


def test_a_load_checks_its_settings_before_any_file(monkeypatch, capsys, tmp_path):
    """The time zone is used only by a value with an offset, perhaps late in a long load."""
    (tmp_path / "exports").mkdir()
    monkeypatch.setenv("CXKPI_TIMEZONE", "Mars/Olympus")
    db = tmp_path / "w.duckdb"
    status, _, err = cxkpi(monkeypatch, capsys, "--db", str(db), "load", str(tmp_path / "exports"))
    assert status == 1 and not db.exists()
    assert err.startswith("error: CXKPI_TIMEZONE='Mars/Olympus' is not a time zone name")
