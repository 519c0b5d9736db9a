"""Every CXKPI_* environment variable cxkpi reads, declared once and read when asked.

Each setting has its name, its default (written as the variable would be), the rule a value
must follow and a one-line meaning. `Setting.get()` reads the environment when it is called,
never at import, so a value set later (by a test, or by `cxkpi serve` for the dashboard)
counts. An empty value counts as unset. A value breaking its rule raises SettingError, a
CxkpiError: one line naming the variable and the rule, never a traceback.

docs/cli.md's table of settings is generated from SETTINGS (`python -m etl.cli.reference`), and
tests/unit/test_settings.py fails when the docs and SETTINGS disagree or when a module other
than this one reads a CXKPI_ variable from the environment itself.

Handing settings to the dashboard: `cxkpi serve` starts Streamlit's server inside its own
process (streamlit.web.cli.main, after rewriting sys.argv into Streamlit's own command line:
that holds Streamlit's flags only, never cxkpi's settings). The dashboard's scripts run in
that process and the SQL workbench's workers are its child processes, so the environment is
the one channel they all share; `streamlit run dashboard/app.py` and Streamlit's AppTest use
it too. The command line therefore hands its values over with `Setting.hand_over()`, which
writes them in the form `get()` reads back, and the dashboard reads them with `get()` like
any other module. A command-line option wins over the variable because the command hands
its value over (or passes it on) in place of the variable's.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from etl.errors import CxkpiError

T = TypeVar("T")

#: Where the settings are documented (the table is generated from SETTINGS).
DOCUMENTED = "docs/cli.md#settings"


class SettingError(CxkpiError):
    """A CXKPI_* variable whose value breaks its rule."""


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One CXKPI_* environment variable."""

    name: str
    #: The value when the variable is unset or empty, written as the variable would be;
    #: None: no value (the setting is off).
    default: str | None
    #: What the value means, in one line (the docs' table shows it).
    meaning: str
    #: Turns the text into the value; raises ValueError when the text breaks the rule.
    parse: Callable[[str], T]
    #: The rule, as it completes the sentence "<variable>='<value>' is not ...".
    rule: str
    #: Who sets it besides the user: a command handing its option to the dashboard.
    set_by: str = ""

    def raw(self) -> str | None:
        """The variable's text as set now, or None when it is unset or empty."""
        text = os.environ.get(self.name, "")
        return text if text.strip() else None

    def get(self) -> T | None:
        """The value now: the variable's, else the default's."""
        text = self.raw()
        if text is None:
            return self.default_value
        try:
            return self.parse(text)
        except ValueError:
            raise self._broken(text) from None

    def _broken(self, text: str) -> SettingError:
        return SettingError(f"{self.name}={text!r} is not {self.rule} ({DOCUMENTED})")

    @property
    def default_value(self) -> T | None:
        """The default, as a value."""
        return None if self.default is None else self.parse(self.default)

    def hand_over(self, value: Any) -> None:
        """Set the variable for code that runs later in this process or in its children
        (the dashboard under `cxkpi serve`); None unsets it. Checked as get() would check it."""
        if value is None or value is False:
            os.environ.pop(self.name, None)
            return
        text = "1" if value is True else f"{value:g}" if isinstance(value, float) else str(value)
        try:
            self.parse(text)
        except ValueError:
            raise self._broken(text) from None
        os.environ[self.name] = text


def _path(text: str) -> Path:
    return Path(text).expanduser()


def _seconds(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(text)
    return value


def _count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*([kmgt]i?b|[kmgt]|b|bytes?)\s*", re.IGNORECASE)
_SHARE = re.compile(r"\s*\d+(\.\d+)?\s*%\s*")


def _size(text: str) -> str:
    if not _SIZE.fullmatch(text):
        raise ValueError(text)
    return text.strip()


def _size_or_share(text: str) -> str:
    return text.strip() if _SHARE.fullmatch(text) else _size(text)


@functools.lru_cache(maxsize=8)
def _zone(text: str) -> str:
    import polars as pl  # the loads that read it import Polars anyway

    name = text.strip()
    try:
        pl.Series(["2026-01-01"]).str.to_datetime().dt.replace_time_zone(name)
    except pl.exceptions.PolarsError:
        raise ValueError(text) from None
    return name


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in allowed:
            raise ValueError(text)
        return value

    return parse


_YES, _NO = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value not in _YES + _NO:
        raise ValueError(text)
    return value in _YES


def _currency(text: str) -> str:
    code = text.strip()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise ValueError(text)
    return code


def _name(text: str) -> str:
    name = " ".join(text.split())
    if len(name) > 80 or not name.isprintable():
        raise ValueError(text)
    return name


_SIZE_RULE = "a DuckDB size such as 512MB, 2GB or 1.5GiB"

DB: Setting[Path] = Setting(
    "CXKPI_DB",
    "data/cxkpi.duckdb",
    "The warehouse file every command and the dashboard read; `--db` wins over it.",
    _path,
    "a file path",
    set_by="`cxkpi serve` and `cxkpi demo`, from `--db`",
)
TIMEZONE: Setting[str] = Setting(
    "CXKPI_TIMEZONE",
    "UTC",
    "The business time zone: timestamps with an offset are converted to it when loaded.",
    _zone,
    "a time zone name such as UTC or Europe/Amsterdam",
)
MEMORY_LIMIT: Setting[str] = Setting(
    "CXKPI_MEMORY_LIMIT",
    "2GB",
    "DuckDB's memory cap while loading and building; beyond it DuckDB spills to disk.",
    _size_or_share,
    f"{_SIZE_RULE}, or a share of memory such as 80%",
)
INGEST: Setting[str] = Setting(
    "CXKPI_INGEST",
    "typed",
    "`checked` makes a load check every row with Polars and Great Expectations, not only"
    " the rows DuckDB flags (the same result, several times slower).",
    _choice("typed", "checked"),
    "typed or checked",
)
PROFILES: Setting[Path] = Setting(
    "CXKPI_PROFILES",
    "~/.config/cxkpi/profiles",
    "The folder searched first for mapping profiles named on the command line.",
    _path,
    "a folder path",
)
THEMES: Setting[Path] = Setting(
    "CXKPI_THEMES",
    None,
    "The theme taxonomy a build assigns survey comments to (default: the shipped"
    " contact-centre themes; docs/methodology.md#themes-in-comments).",
    _path,
    "a file path",
)
ACCESS: Setting[Path] = Setting(
    "CXKPI_ACCESS",
    None,
    "The access file saying who may see what once signed in (docs/access.md); `--access`"
    " wins over it.",
    _path,
    "a file path",
    set_by="`cxkpi serve`, from `--access`",
)
UNSAFE_OPEN: Setting[bool] = Setting(
    "CXKPI_UNSAFE_OPEN",
    "0",
    "Tells the dashboard it serves the network without sign-in, so it warns on every page.",
    _flag,
    "1 or 0 (or true/false, yes/no)",
    set_by="`cxkpi serve`: on when `--unsafe-no-sign-in` serves beyond this machine",
)
SQL_TIMEOUT: Setting[float] = Setting(
    "CXKPI_SQL_TIMEOUT",
    "30",
    "Seconds before an ad-hoc query (SQL workbench, `cxkpi sql`) is stopped; `--timeout`"
    " and `--sql-timeout` win over it.",
    _seconds,
    "a number of seconds above 0",
    set_by="`cxkpi serve`, from `--sql-timeout`",
)
SQL_MAX_ROWS: Setting[int] = Setting(
    "CXKPI_SQL_MAX_ROWS",
    "1000",
    "Rows an ad-hoc query shows at most; `cxkpi sql --max-rows` wins over it.",
    _count,
    "a whole number of 1 or more",
)
SQL_DOWNLOAD_ROWS: Setting[int] = Setting(
    "CXKPI_SQL_DOWNLOAD_ROWS",
    "1000000",
    "Rows one SQL workbench download holds at most.",
    _count,
    "a whole number of 1 or more",
)
SQL_MEMORY: Setting[str] = Setting(
    "CXKPI_SQL_MEMORY",
    "2GB",
    "Memory one ad-hoc query may use (DuckDB's limit, and its worker's cap above what it"
    " holds when ready).",
    _size,
    _SIZE_RULE,
)
CURRENCY: Setting[str] = Setting(
    "CXKPI_CURRENCY",
    "EUR",
    "The currency money figures (cost per contact) are shown in, on the pages and in the"
    " board pack: € for EUR, $ for USD, £ for GBP, ¥ for JPY, else the code after the figure.",
    _currency,
    "a three-letter ISO 4217 currency code in capitals, such as EUR, USD or GBP",
)
SNAPSHOT_BY: Setting[str] = Setting(
    "CXKPI_SNAPSHOT_BY",
    None,
    "The name a board snapshot records as who froze it, such as the board secretary's;"
    " `cxkpi snapshot --by` wins over it. Unset and without `--by`, no name is recorded"
    " (never the computer's login account).",
    _name,
    "a name of at most 80 printable characters",
)
SCREENSHOTS: Setting[Path] = Setting(
    "CXKPI_SCREENSHOTS",
    None,
    "For the browser tests only: the folder they write the README's screenshot to"
    " (`docs` refreshes it).",
    _path,
    "a folder path",
)

#: Every setting, in the order the docs list them.
SETTINGS: tuple[Setting[Any], ...] = (
    DB,
    TIMEZONE,
    MEMORY_LIMIT,
    INGEST,
    PROFILES,
    THEMES,
    ACCESS,
    UNSAFE_OPEN,
    SQL_TIMEOUT,
    SQL_MAX_ROWS,
    SQL_DOWNLOAD_ROWS,
    SQL_MEMORY,
    CURRENCY,
    SNAPSHOT_BY,
    SCREENSHOTS,
)
#: The settings the dashboard reads: `cxkpi serve` checks them before it starts the server,
#: so a bad value stops it with one line instead of showing up on a page later.
DASHBOARD: tuple[Setting[Any], ...] = (
    DB,
    ACCESS,
    UNSAFE_OPEN,
    SQL_TIMEOUT,
    SQL_MAX_ROWS,
    SQL_DOWNLOAD_ROWS,
    SQL_MEMORY,
    CURRENCY,
)
#: The settings a load reads, checked before its first file: the time zone is used only
#: when a value with an offset comes, perhaps late in a long load.
LOAD: tuple[Setting[Any], ...] = (TIMEZONE, MEMORY_LIMIT, INGEST)
#: The settings a board snapshot reads, checked before anything is frozen.
SNAPSHOT: tuple[Setting[Any], ...] = (TIMEZONE, CURRENCY, SNAPSHOT_BY)


def check(settings: tuple[Setting[Any], ...] = SETTINGS) -> None:
    """Read each setting now; raises SettingError for the first value breaking its rule."""
    for setting in settings:
        setting.get()


def table() -> list[str]:
    """The Markdown table of every setting: variable, default, meaning (docs/cli.md)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for setting in SETTINGS:
        default = f"`{setting.default}`" if setting.default is not None else "unset"
        meaning = f"{setting.meaning} Must be {setting.rule}."
        if setting.set_by:
            meaning += f" Also set by {setting.set_by}."
        lines.append(f"| `{setting.name}` | {default} | {cell(meaning)} |")
    return lines
