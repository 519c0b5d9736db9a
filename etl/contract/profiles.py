"""Mapping profiles: describe a foreign export once in YAML, load it as a contract source.

A profile names the contract source it feeds, how to read the file (delimiter, encoding,
header row, Excel sheet), how each contract column is made from the export's columns
(rename, date and time formats, value maps, scale conversions, constants, expressions),
which rows to set aside and why, and which columns are personal data. See docs/profiles.md.

Reading with a profile gives the same text frame as a contract file (contract columns as
text, `_row_number` = the row in the export), plus `_filtered` (the reason a filter set the
row aside, else null) and `_raw` (the export's row as JSON, without dropped columns), so the
loader validates, quarantines and counts exactly as for a contract file.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from etl import settings
from etl.config_file import ConfigError, compose, cut
from etl.config_file import fail as _fail
from etl.config_file import line as _line
from etl.config_file import mapping as _mapping
from etl.config_file import plain as _plain
from etl.config_file import scalar as _scalar
from etl.config_file import sequence as _sequence
from etl.contract.expression import ExpressionRefused, column_sql
from etl.contract.sources import SOURCES, Source
from etl.errors import FileRefused, first_line

ROW = "_row_number"
FILTERED = "_filtered"
RAW = "_raw"
#: Columns named `_problem:<contract column>[:<check>]` hold "rule<TAB>message" where the
#: profile found a row wrong (a date in neither stated order, a value no scale applies to):
#: the loader quarantines the row under that rule (problems()).
PROBLEM = "_problem:"
#: Profiles shipped with cxkpi; the user's folder (user_folder()) is searched first.
SHIPPED = Path(__file__).parent / "profiles"
ENCODINGS = ("utf-8", "latin-1", "windows-1252", "utf-16")
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")
_HOWS = ("column", "timestamp", "date", "duration", "constant", "expression")
_TOP = ("source", "description", "read", "columns", "filters", "drop", "one_response_per")
#: What a failing overflow guard puts in Polars' error message (see _guarded).
OVERFLOW = "whole-number arithmetic overflowed"
_RESPONDENT = "_respondent"
#: Why a respondent's further rows are set aside (one_response_per).
SAME_RESPONDENT = "a further row of the same respondent (its comment is kept with the first)"


#: A profile that cannot be used, named by file and line.
ProfileError = ConfigError


@dataclass(frozen=True)
class Order:
    """A date form whose format states a day/month order, checked against the file."""

    text: pl.Expr
    stated: str
    swapped: str


@dataclass(frozen=True)
class Column:
    """How one contract column is made: its expression and the export columns it reads."""

    name: str
    line: int
    expr: pl.Expr
    inputs: tuple[str, ...]
    #: Export columns as an expression spells them (matched to the file case-insensitively).
    spelled: tuple[str, ...] = ()
    #: "rule<TAB>message" where a row's value does not fit the form, else null.
    problem: pl.Expr | None = None
    order: Order | None = None
    #: The value map's codes as matched (normalised), for `profile check`'s unmapped codes.
    codes: frozenset[str] | None = None
    normalised: pl.Expr | None = None


@dataclass(frozen=True)
class Filter:
    """Rows matching condition are set aside (not loaded), counted under reason."""

    reason: str
    line: int
    condition: pl.Expr
    inputs: tuple[str, ...]
    spelled: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """A parsed, checked profile."""

    name: str
    path: Path
    source: Source
    description: str = ""
    delimiter: str = ","
    encoding: str = "utf-8"
    header_row: int = 1
    sheet: str | int | None = None
    columns: tuple[Column, ...] = ()
    filters: tuple[Filter, ...] = ()
    drop: tuple[str, ...] = ()
    #: The export column naming a respondent whose several rows are one response.
    respondent: str | None = None
    lines: dict = field(default_factory=dict, compare=False)
    #: A digest of the profile's text, read once when parsed (a changed profile reloads files).
    digest: str = ""

    @property
    def label(self) -> str:
        """How load_runs names the profile: name@digest."""
        return f"{self.name}@{self.digest}"

    @property
    def inputs(self) -> set[str]:
        """Every export column the profile reads."""
        used = {c for column in self.columns for c in column.inputs}
        used |= {c for f in self.filters for c in f.inputs}
        return (used | ({self.respondent} if self.respondent else set())) - {ROW}

    def scan(self, path: Path) -> pl.LazyFrame:
        """The export as the contract's text frame (see the module docstring).

        Filters run first: the rows they set aside are counted and never mapped, so a
        column expression sees only the rows it is meant for.
        """
        frame, reason, kept = self._split(path)
        aside = frame.filter(reason.is_not_null()).select(pl.col(ROW), reason.alias(FILTERED))
        rows = frame.filter(reason.is_null())
        raw = (
            pl.lit(None, dtype=pl.String)
            if self.source.anonymous or not kept
            else pl.struct(kept).struct.json_encode()
        )
        mapped = rows.select(
            pl.col(ROW),
            *(c.expr.cast(pl.String).alias(c.name) for c in self.columns),
            pl.lit(None, dtype=pl.String).alias(FILTERED),
            raw.alias(RAW),
            *(c.problem.alias(PROBLEM + c.name) for c in self.columns if c.problem is not None),
            *([pl.col(self.respondent).alias(_RESPONDENT)] if self.respondent else []),
        )
        order = _date_orders(path, self, rows)
        if order.problems.height:
            mapped = mapped.join(order.problems.lazy(), on=ROW, how="left", maintain_order="left")
        if self.respondent:
            mapped = self._one_per_respondent(mapped)
        return pl.concat([mapped, aside], how="diagonal")

    def _split(self, path: Path) -> tuple[pl.LazyFrame, pl.Expr, list[str]]:
        """The export (with the expressions' spellings), the filters' reason for each row
        (null for a row kept) and the columns a raw record keeps."""
        frame = self._export(path)
        names = frame.collect_schema().names()
        kept = [n for n in names if n != ROW and n not in self.drop]
        frame = self._with_spellings(frame, names)
        reason = pl.lit(None, dtype=pl.String)
        for rule in reversed(self.filters):
            reason = (
                pl.when(rule.condition.fill_null(False)).then(pl.lit(rule.reason)).otherwise(reason)
            )
        return frame, reason, kept

    def _kept_rows(self, path: Path) -> pl.LazyFrame:
        """The export's rows no filter sets aside."""
        frame, reason, _ = self._split(path)
        return frame.filter(reason.is_null())

    def _export(self, path: Path) -> pl.LazyFrame:
        """The export's columns as text, refused when it lacks a column the profile reads."""
        frame = _read(path, self)
        names = frame.collect_schema().names()
        missing = sorted(self.inputs - set(names))
        if missing:
            lines = ", ".join(f"'{m}' (line {self.lines.get(m, '?')})" for m in missing)
            raise FileRefused(
                path,
                f"profile {self.name} reads column(s) {lines} that the file does not have;"
                f" it has: {', '.join(n for n in names if n != ROW)[:400]}"
                + _comment_hint(missing, names),
            )
        return frame

    def _one_per_respondent(self, mapped: pl.LazyFrame) -> pl.LazyFrame:
        """A respondent's rows as one response: the first row, with every row's comment; the
        further rows set aside and counted. Rows whose answers differ are quarantined."""
        answers = [c.name for c in self.columns if c.name != "comment" and ROW not in c.inputs]
        has_comment = "comment" in self.header()
        known = pl.col(_RESPONDENT).is_not_null()
        groups = (
            mapped.filter(known)
            .group_by(_RESPONDENT)
            .agg(
                pl.col(ROW).min().alias("_first"),
                pl.len().alias("_rows"),
                *(
                    [pl.col("comment").drop_nulls().str.join("\n").alias("_comments")]
                    if has_comment
                    else []
                ),
                *(pl.col(a).n_unique().alias(f"_versions:{a}") for a in answers),
            )
        )
        joined = mapped.join(groups, on=_RESPONDENT, how="left", maintain_order="left")
        first = ~known | (pl.col(ROW) == pl.col("_first"))
        differs = pl.lit(None, dtype=pl.String)
        for answer in reversed(answers):
            differs = (
                pl.when(pl.col(f"_versions:{answer}") > 1).then(pl.lit(answer)).otherwise(differs)
            )
        problem = pl.when(first & differs.is_not_null()).then(
            pl.format(
                "respondent:answers_differ\tthe {} rows of respondent '{}' give different {}:"
                " quarantined rather than one of them chosen",
                pl.col("_rows"),
                pl.col(_RESPONDENT).str.slice(0, 60),
                differs,
            )
        )
        merged = (
            [pl.when(first).then(pl.col("_comments").replace("", None)).alias("comment")]
            if has_comment
            else []
        )
        return joined.with_columns(
            *merged,
            pl.when(first)
            .then(pl.col(FILTERED))
            .otherwise(pl.lit(SAME_RESPONDENT))
            .alias(FILTERED),
            problem.alias(f"{PROBLEM}{answers[0] if answers else 'comment'}:respondent"),
        ).drop(
            _RESPONDENT,
            "_first",
            "_rows",
            "_comments",
            *(f"_versions:{a}" for a in answers),
            strict=False,
        )

    def notices(self, path: Path) -> list[str]:
        """What the profile noticed about the file that a user should read (day/month order)."""
        return list(_date_orders(path, self).notices)

    def _with_spellings(self, frame: pl.LazyFrame, names: list[str]) -> pl.LazyFrame:
        """The export's columns also under the spellings the expressions use (`Status`)."""
        spelled = {w for part in (*self.columns, *self.filters) for w in part.spelled}
        return frame.with_columns(
            pl.col(column_name(w)).alias(w) for w in spelled if w not in names
        )

    def header(self) -> list[str]:
        """The contract columns the profile produces."""
        return [c.name for c in self.columns]

    def diagnose(self, path: Path) -> str | None:
        """Which column or filter fails on this file, named by profile line (after a failure)."""
        frame = _read(path, self)
        try:
            frame.collect(engine="streaming")  # the export itself, before any mapping
        except Exception as error:  # the reader's own failure
            hint = ""
            if "utf-8" in str(error).lower():
                hint = f" (if it is not UTF-8, state read.encoding in {self.path})"
            return f"not readable with profile {self.name}: {first_line(error)}{hint}"
        frame = self._with_spellings(frame, frame.collect_schema().names())
        for line, what, condition in [
            (f.line, f"the filter '{f.reason}'", f.condition) for f in self.filters
        ]:
            try:
                frame.select(condition).collect()
            except Exception as error:  # the failure being looked for
                return _failed(self.path, line, what, error)
        reason = pl.any_horizontal(
            [f.condition.fill_null(False) for f in self.filters] or [pl.lit(False)]
        )
        rows = frame.filter(~reason)
        for column in self.columns:
            try:
                rows.select(column.expr).collect()
            except Exception as error:  # the failure being looked for
                return _failed(self.path, column.line, f"'{column.name}'", error)
        return None


def _failed(path: Path, line: int, what: str, error: Exception) -> str:
    """Why a column or filter failed on a file, in words (an overflow is named as such)."""
    if OVERFLOW in str(error):
        return (
            f"{path}:{line}: {what} overflows 64-bit whole-number arithmetic on this file"
            " (a result beyond +-9.2e18): nothing was loaded"
        )
    return f"{path}:{line}: {what} failed on this file: {first_line(error)}"


def _comment_hint(missing: list[str], names: list[str]) -> str:
    """A hint when a missing column is a file's column cut at ' #' (YAML starts a comment)."""
    for name in missing:
        cut_off = [n for n in names if n.startswith(name + " #") or n.startswith(name + "#")]
        if cut_off:
            return (
                f"; the file has '{cut_off[0]}': in YAML ' #' starts a comment, so quote the"
                f' name ("{cut_off[0]}")'
            )
    return ""


def user_folder() -> Path:
    """The user's profiles: $CXKPI_PROFILES, else ~/.config/cxkpi/profiles."""
    return settings.PROFILES.get()


def find(name_or_path: str) -> Profile:
    """A profile by path, or by name in $CXKPI_PROFILES, ~/.config/cxkpi/profiles or shipped."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yml", ".yaml") or candidate.exists():
        if not candidate.is_file():
            raise ProfileError(f"{candidate}: no such profile file")
        return parse(candidate)
    user = user_folder()
    for folder in (user, SHIPPED):
        for suffix in (".yml", ".yaml"):
            path = folder / f"{name_or_path}{suffix}"
            if path.is_file():
                return parse(path)
    known = ", ".join(sorted(p.stem for p in available())) or "none"
    raise ProfileError(
        f"no profile named '{name_or_path}' in {user} or {SHIPPED} (known: {known});"
        " or give a path to a .yml file"
    )


def available() -> list[Path]:
    """Every profile file found by name (user folder first)."""
    found: dict[str, Path] = {}
    for folder in (SHIPPED, user_folder()):
        if folder.is_dir():
            for path in sorted(folder.glob("*.y*ml")):
                found[path.stem] = path
    return list(found.values())


def listing() -> list[tuple[Path, str, bool]]:
    """Every profile file in lookup order (user folder first): path, folder kind, hidden by one?"""
    found: list[tuple[Path, str, bool]] = []
    seen: set[str] = set()
    for folder, kind in ((user_folder(), "yours"), (SHIPPED, "shipped")):
        if folder.is_dir():
            for path in sorted(folder.glob("*.y*ml")):
                found.append((path, kind, path.stem in seen))
            seen |= {p.stem for p in folder.glob("*.y*ml")}
    return found


def parse(path: Path) -> Profile:
    """Read and check a profile; every problem names the file and line, all in one message."""
    text, root = compose(path, "the profile")
    top = _mapping(path, root, "the profile", _TOP)
    if "source" not in top:
        _fail(path, _line(root), "'source' is missing: the contract source this export feeds")
    source_name, source_line = _scalar(path, top["source"])
    if source_name not in SOURCES:
        _fail(
            path, source_line, f"unknown source '{cut(source_name)}' (one of {', '.join(SOURCES)})"
        )
    source = SOURCES[source_name]
    mistakes = _Mistakes()
    read = mistakes.check({}, _read_options, path, top.get("read"))
    drop = mistakes.check((), _drop, path, top)
    lines: dict[str, int] = {}
    columns = _columns(path, source, top.get("columns"), lines, mistakes)
    filters = _filters(path, top.get("filters"), lines, mistakes)
    respondent = mistakes.check(None, _respondent, path, source, top, lines)
    for column in columns:
        leaked = sorted(set(column.inputs) & set(drop))
        if leaked:
            mistakes.found.append(
                f"{path}:{column.line}: '{column.name}' is made from dropped (personal)"
                f" column(s) {cut(', '.join(leaked))}"
            )
    description = _scalar(path, top["description"])[0] if "description" in top else ""
    mistakes.raise_any()
    return Profile(
        name=path.stem,
        path=path,
        source=source,
        description=str(description),
        columns=columns,
        filters=filters,
        drop=drop,
        respondent=respondent,
        lines=lines,
        digest=hashlib.sha256(text.encode()).hexdigest()[:12],
        **read,
    )


def _drop(path: Path, top: dict) -> tuple[str, ...]:
    if "drop" not in top:
        return ()
    return tuple(column_name(v) for v, _ in _sequence(path, top["drop"], "drop"))


class _Mistakes:
    """The mistakes found so far in a profile, reported together (one line each)."""

    def __init__(self):
        self.found: list[str] = []

    def check(self, fallback, step, *args):
        """step(*args), or fallback after noting the mistake it raised."""
        try:
            return step(*args)
        except ProfileError as mistake:
            self.found.append(str(mistake))
            return fallback

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise ProfileError(self.found[0])
        if self.found:
            raise ProfileError(
                f"{len(self.found)} mistakes in the profile:\n" + "\n".join(self.found)
            )


def _respondent(path: Path, source: Source, top: dict, lines: dict) -> str | None:
    """The export column naming a respondent (`one_response_per`), if the profile gives one."""
    if "one_response_per" not in top:
        return None
    value, line = _scalar(path, top["one_response_per"])
    if not isinstance(value, str) or not value.strip():
        _fail(path, line, "one_response_per names the export column that identifies a respondent")
    if "response_id" not in source.column_names:
        _fail(path, line, f"one_response_per applies to survey sources, not '{source.name}'")
    lines.setdefault(column_name(value), line)
    return column_name(value)


# --- reading the export --------------------------------------------------------------------


def _read(path: Path, profile: Profile) -> pl.LazyFrame:
    if not path.exists():
        raise FileRefused(path, "file not found")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FileRefused(path, f"not a file a profile reads (suffix '{path.suffix}')")
    if path.stat().st_size == 0:
        raise FileRefused(path, "file is empty (0 bytes): expected a header row and data rows")
    try:
        if suffix == ".xlsx":
            frame = _read_excel(path, profile).lazy()
        elif suffix == ".parquet":
            frame = pl.scan_parquet(path)
            frame = frame.select(pl.all().cast(pl.String))
        else:
            frame = pl.scan_csv(
                _utf8(path, profile.encoding),
                separator=profile.delimiter,
                skip_rows=profile.header_row - 1,
                infer_schema=False,
                encoding="utf8",
            )
        names = frame.collect_schema().names()
    except FileRefused:
        raise
    except Exception as error:  # polars and fastexcel raise many types for a broken file
        raise FileRefused(
            path, f"not readable with profile {profile.name} ({first_line(error)})"
        ) from None
    frame = frame.rename({n: column_name(n) for n in names})
    # An empty cell is NULL in every format: a CSV gives '' where Excel gives nothing.
    frame = frame.with_columns(
        pl.when(pl.col(n).str.strip_chars() != "").then(pl.col(n)).alias(n)
        for n in frame.collect_schema().names()
    )
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _read_excel(path: Path, profile: Profile) -> pl.DataFrame:
    sheet = profile.sheet if profile.sheet is not None else 1
    where = {"sheet_name": sheet} if isinstance(sheet, str) else {"sheet_id": sheet}
    return pl.read_excel(
        path,
        engine="calamine",
        read_options={"header_row": profile.header_row - 1},
        infer_schema_length=0,
        **where,
    )


#: Exports in another encoding are converted once per process into a temporary UTF-8 copy.
_CONVERTED: dict[tuple[str, int, str], Path] = {}
_TEMP = None


def _utf8(path: Path, encoding: str) -> Path:
    if encoding == "utf-8":
        return path
    global _TEMP
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, encoding)
    if key not in _CONVERTED:
        if _TEMP is None:
            _TEMP = tempfile.TemporaryDirectory(prefix="cxkpi-utf8-")
        target = Path(_TEMP.name) / f"{len(_CONVERTED)}-{path.name}"
        decoder = codecs.getincrementaldecoder(encoding)()
        with path.open("rb") as source, target.open("w", encoding="utf-8") as out:
            for block in iter(lambda: source.read(1 << 20), b""):
                out.write(decoder.decode(block))
            out.write(decoder.decode(b"", final=True))
        _CONVERTED[key] = target
    return _CONVERTED[key]


def column_name(value: object) -> str:
    """A column name as the loader matches it: byte-order mark removed, trimmed, lower case."""
    return str(value).lstrip("\ufeff").strip().lower()


# --- the YAML --------------------------------------------------------------------------------


def _read_options(path: Path, node) -> dict:
    if node is None:
        return {}
    options = _mapping(path, node[0], "'read'")
    result: dict = {}
    for key, entry in options.items():
        value, line = _scalar(path, entry)
        if key == "delimiter":
            if not isinstance(value, str) or len(value) != 1:
                _fail(path, line, f"delimiter must be one character, not {cut(repr(value))}")
            result["delimiter"] = value
        elif key == "encoding":
            normal = str(value).lower().replace("_", "-")
            normal = {"utf8": "utf-8", "latin1": "latin-1", "cp1252": "windows-1252"}.get(
                normal, normal
            )
            if normal not in ENCODINGS:
                _fail(path, line, f"encoding '{cut(value)}' is not one of {', '.join(ENCODINGS)}")
            result["encoding"] = normal
        elif key == "header_row":
            if not isinstance(value, int) or value < 1:
                _fail(
                    path, line, f"header_row must be a line number from 1, not {cut(repr(value))}"
                )
            result["header_row"] = value
        elif key == "sheet":
            if not isinstance(value, str | int) or isinstance(value, bool):
                _fail(path, line, "sheet must be a sheet name or its number from 1")
            result["sheet"] = value
        else:
            _fail(
                path,
                line,
                f"unknown read option '{cut(key)}' (delimiter, encoding, header_row, sheet)",
            )
    return result


def _columns(
    path: Path, source: Source, node, lines: dict, mistakes: _Mistakes
) -> tuple[Column, ...]:
    if node is None:
        mistakes.found.append(f"{path}:1: 'columns' is missing: how each contract column is made")
        return ()
    entries = mistakes.check(None, _mapping, path, node[0], "'columns'")
    if entries is None:
        return ()
    known = set(source.column_names)
    columns = []
    for name, (spec, line) in entries.items():
        extra_item = source.extra_columns == "q_items" and name.startswith("q_")
        if name not in known and not extra_item:
            mistakes.found.append(
                f"{path}:{line}: '{cut(name)}' is not a column of source '{source.name}'"
                f"{_did_you_mean(name, source.column_names)}"
                f" (its columns: {', '.join(source.column_names)})"
            )
            continue
        column = mistakes.check(None, _column, path, name, spec, line)
        if column is None:
            continue
        for used in column.inputs:
            lines.setdefault(used, line)
        columns.append(column)
    produced = set(entries)
    missing = [c for c in source.required_columns if c not in produced]
    if missing:
        mistakes.found.append(
            f"{path}:{node[1]}: required column(s) {', '.join(missing)} of source"
            f" '{source.name}' are not mapped"
        )
    return tuple(columns)


def _did_you_mean(word: str, options) -> str:
    """' (did you mean 'x'?)' for a near miss among options, else ''."""
    close = difflib.get_close_matches(str(word), list(options), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


#: The keys each way of making a column takes.
_KEYS = {
    "column": {"column", "values", "scale", "reverse", "ignore_case"},
    "timestamp": {"timestamp"},
    "date": {"date"},
    "duration": {"duration"},
    "constant": {"constant"},
    "expression": {"expression"},
}


def _column(path: Path, name: str, spec: yaml.Node, line: int) -> Column:
    """How a contract column is made, with the export columns it reads."""
    if isinstance(spec, yaml.ScalarNode):
        column = column_name(_plain(spec, path))
        return Column(name, line, pl.col(column), (column,))
    options = _mapping(path, spec, f"'{name}'")
    hows = [h for h in _HOWS if h in options]
    every = set().union(*_KEYS.values())
    for key, (_, key_line) in options.items():
        if key not in every:
            _fail(
                path,
                key_line,
                f"unknown key '{cut(key)}' in '{cut(name)}'{_did_you_mean(key, every)}"
                f" (a column is made by one of {', '.join(_HOWS)})",
            )
    if len(hows) != 1:
        _fail(path, line, f"'{cut(name)}' needs exactly one of {', '.join(_HOWS)}")
    how = hows[0]
    for key, (_, key_line) in options.items():
        if key not in _KEYS[how]:
            _fail(path, key_line, f"'{cut(key)}' cannot be used with '{how}' in '{cut(name)}'")
    if how == "constant":
        value, _ = _scalar(path, options["constant"])
        constant = pl.lit(None if value is None else str(value), dtype=pl.String)
        return Column(name, line, constant, ())
    if how == "expression":
        expr, inputs, spelled = _expression(path, options["expression"])
        return Column(name, line, expr, tuple(inputs), tuple(spelled))
    if how in ("timestamp", "date"):
        return _when(path, name, how, options[how])
    if how == "duration":
        return _duration(path, name, options["duration"])
    return _mapped(path, name, line, options)


def _mapped(path: Path, name: str, line: int, options: dict) -> Column:
    """A column from one export column, through value maps or scales (either may depend on
    a condition: a list of alternatives, each with `when`)."""
    column = column_name(_scalar(path, options["column"])[0])
    ignore_case = (
        bool(_scalar(path, options["ignore_case"])[0]) if "ignore_case" in options else False
    )
    text = pl.col(column).cast(pl.String).str.strip_chars()
    inputs, spelled = [column], []
    expr, codes, normalised = text, None, None
    if "values" in options:
        normalised = _normal(text, ignore_case)
        alternatives = _alternatives(path, options["values"], "values", ("map",))
        converted, codes = [], set()
        for when, entry, _ in alternatives:
            mapping = _value_map(path, entry.get("map") or options["values"], ignore_case)
            codes |= set(mapping)
            converted.append(
                (when, normalised.replace_strict(mapping, default=text, return_dtype=pl.String))
            )
        expr, problem = _choose(converted, text, alternatives, name)
        codes = frozenset(codes)
    elif "scale" in options or "reverse" in options:
        reverse = bool(_scalar(path, options["reverse"])[0]) if "reverse" in options else False
        if "scale" in options:
            alternatives = _alternatives(path, options["scale"], "scale", ("from", "to"))
        else:
            alternatives = [(None, {}, line)]
        converted = [
            (when, _scale(path, entry, entry_line, reverse, text))
            for when, entry, entry_line in alternatives
        ]
        expr, problem = _choose(converted, text, alternatives, name)
    else:
        problem = None
    for when, _, _ in alternatives if "values" in options or "scale" in options else []:
        if when is not None:
            inputs += when.inputs
            spelled += when.spelled
    return Column(
        name,
        line,
        expr,
        tuple(dict.fromkeys(inputs)),
        tuple(dict.fromkeys(spelled)),
        problem=problem,
        codes=codes,
        normalised=normalised,
    )


@dataclass(frozen=True)
class _Condition:
    """A `when` of a conditional value map or scale."""

    text: str
    line: int
    expr: pl.Expr
    inputs: list[str]
    spelled: list[str]


def _alternatives(path: Path, entry, key: str, takes: tuple[str, ...]):
    """A value map or scale as a list of (condition or None, options, line).

    One mapping is one alternative without a condition. A list holds alternatives tried in
    order, each `{when: condition, ...}`; the last may leave `when` out (every other row).
    """
    node, line = entry
    if not isinstance(node, yaml.SequenceNode):
        return [(None, {} if key == "values" else _plain(node, path), line)]
    found = []
    for index, item in enumerate(node.value):
        options = _mapping(path, item, f"an alternative of '{key}'")
        item_line = _line(item)
        allowed = {"when", *takes}
        for option, (_, option_line) in options.items():
            if option not in allowed:
                _fail(
                    path,
                    option_line,
                    f"unknown key '{cut(option)}' in an alternative of '{key}'"
                    f"{_did_you_mean(option, allowed)} (it takes {', '.join(sorted(allowed))})",
                )
        when = None
        if "when" in options:
            expr, inputs, spelled = _expression(path, options["when"])
            text = str(_scalar(path, options["when"])[0])
            when = _Condition(text, options["when"][1], expr, inputs, spelled)
        elif index != len(node.value) - 1:
            _fail(path, item_line, f"only the last alternative of '{key}' may leave out 'when'")
        values = {k: options[k] for k in takes if k in options}
        if key == "values":
            values = {"map": options["map"]} if "map" in options else {}
            if not values:
                _fail(path, item_line, "an alternative of 'values' needs 'map'")
        else:
            values = {k: _plain(options[k][0], path) for k in takes if k in options}
        found.append((when, values, item_line))
    if not found:
        _fail(path, line, f"'{key}' lists no alternative")
    return found


def _choose(converted, text: pl.Expr, alternatives, name: str):
    """The first alternative whose condition holds; a row none applies to keeps its text and
    gets a problem naming the conditions."""
    if len(converted) == 1 and converted[0][0] is None:
        return converted[0][1], None
    chain = None
    for when, value in converted:
        condition = pl.lit(True) if when is None else when.expr.fill_null(False)
        chain = (
            pl.when(condition).then(value) if chain is None else chain.when(condition).then(value)
        )
    if converted[-1][0] is None:
        return chain.otherwise(text), None
    expr = chain.otherwise(text)
    none = ~pl.any_horizontal([w.expr.fill_null(False) for w, _ in converted])
    lines = ", ".join(str(w.line) for w, _ in converted)
    problem = pl.when(none & text.is_not_null()).then(
        pl.format(
            "mapping:no_condition\t'{}': no alternative for '{}' applies to this row"
            " (the conditions on lines {} are all false)",
            text.str.slice(0, 60),
            pl.lit(name),
            pl.lit(lines),
        )
    )
    return expr, problem


#: White space a code may carry invisibly: Unicode's spaces, line breaks, the zero-width
#: characters and the byte-order mark. A run of it counts as one space.
_SPACE = "[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff]+"


def _normal(text: pl.Expr, ignore_case: bool) -> pl.Expr:
    """A code as a value map matches it: white space runs as one space, trimmed."""
    normal = text.str.replace_all(_SPACE, " ").str.strip_chars(" ")
    return normal.str.to_lowercase() if ignore_case else normal


def normal_code(code: str, ignore_case: bool = False) -> str:
    """The Python twin of _normal, for a value map's keys."""
    normal = re.sub(_SPACE, " ", code).strip(" ")
    return normal.lower() if ignore_case else normal


def _value_map(path: Path, entry, ignore_case: bool) -> dict[str, str | None]:
    node, line = entry
    if not isinstance(node, yaml.MappingNode):
        _fail(path, line, "'values' must map export codes to contract values")
    mapping: dict[str, str | None] = {}
    for key, value in node.value:
        code, meant = normal_code(str(_plain(key, path)), ignore_case), _plain(value, path)
        if code in mapping and mapping[code] != (None if meant is None else str(meant)):
            _fail(
                path,
                _line(key),
                f"the code '{cut(code)}' is mapped twice, to different values, once white"
                " space" + (" and case are" if ignore_case else " is") + " ignored",
            )
        mapping[code] = None if meant is None else str(meant)
    return mapping


def _scale(path: Path, scale: dict, line: int, reverse: bool, text: pl.Expr) -> pl.Expr:
    low_from, high_from, low_to, high_to = 1, 5, 1, 5
    if scale:
        try:
            (low_from, high_from), (low_to, high_to) = scale["from"], scale["to"]
            assert high_from > low_from and high_to > low_to
        except Exception:
            _fail(path, line, "scale must be {from: [low, high], to: [low, high]}")
        if not {"from", "to"} >= set(scale):
            _fail(path, line, "scale takes only 'from' and 'to'")
    number = text.cast(pl.Float64, strict=False)
    share = (number - low_from) / (high_from - low_from)
    if reverse:
        share = 1 - share
    converted = low_to + share * (high_to - low_to)
    converted = converted.round(0, mode="half_away_from_zero").cast(pl.Int64).cast(pl.String)
    # Text that is not a number passes through, so the loader quarantines it as it was sent.
    return pl.when(number.is_null()).then(text).otherwise(converted)


def _expression(path: Path, entry: tuple[yaml.Node, int]) -> tuple[pl.Expr, list[str], list[str]]:
    text, line = _scalar(path, entry)
    try:
        checked = column_sql(str(text))
        twin = column_sql(str(text), "DOUBLE")
    except ExpressionRefused as refused:
        reason = str(refused)
        quoted = "" if reason.startswith("does not parse") else f"{cut(text, 40)!r}: "
        _fail(path, line, f"the expression {quoted}{reason}")
    try:
        expr = pl.sql_expr(checked)
        spelled = expr.meta.root_names()
        if twin != checked:
            expr = _guarded(expr, pl.sql_expr(twin), spelled)
    except Exception as error:  # polars raises SQLSyntaxError, InvalidOperationError, ...
        _fail(path, line, f"the expression does not parse: {first_line(error)}")
    return expr, [column_name(c) for c in spelled], spelled


def _guarded(expr: pl.Expr, twin: pl.Expr, spelled: list[str]) -> pl.Expr:
    """expr, failing loudly where its 64-bit whole-number arithmetic overflowed.

    Polars wraps around on overflow without a word. The twin computes the same expression in
    floating point: where the two disagree by more than rounding, the arithmetic wrapped,
    and a strict cast of OVERFLOW makes the mapping fail (nothing is loaded).
    """
    schema = {n: (pl.Int64 if n == ROW else pl.String) for n in spelled}
    try:
        kind = pl.LazyFrame(schema=schema).select(expr.alias("v")).collect_schema()["v"]
    except Exception:  # a type Polars only learns from the data: no guard is possible
        return expr
    if kind.is_numeric():
        value, other = expr.cast(pl.Float64), twin.cast(pl.Float64)
        wrong = (value - other).abs() > 0.5 + 1e-9 * other.abs()
    elif kind == pl.Boolean:
        wrong = expr != twin.cast(pl.Boolean)
    else:
        return expr
    alarm = pl.when(expr.is_not_null() & twin.is_not_null() & wrong).then(pl.lit(OVERFLOW))
    return pl.when(alarm.cast(pl.Int8, strict=True).is_null()).then(expr)


def _when(path: Path, name: str, how: str, entry) -> Column:
    node, line = entry
    options = _mapping(path, node, f"'{name}: {how}'")
    if "column" in options:
        parts = [("column", "format")]
    elif "date" in options:
        parts = [("date", "date_format")] + ([("time", "time_format")] if "time" in options else [])
    else:
        _fail(
            path,
            line,
            f"'{how}' needs 'column' and 'format', or 'date', 'date_format'"
            " (and 'time', 'time_format')",
        )
    keys = {k for pair in parts for k in pair}
    for key, (_, key_line) in options.items():
        if key not in keys:
            every = ("column", "format", "date", "date_format", "time", "time_format")
            _fail(
                path,
                key_line,
                f"'{cut(key)}' is not a {how} option here{_did_you_mean(key, every)}"
                f" (it takes {', '.join(sorted(keys))})",
            )
    columns, formats = [], []
    for column_key, format_key in parts:
        if format_key not in options:
            _fail(path, line, f"'{format_key}' is missing for '{column_key}'")
        columns.append(column_name(_scalar(path, options[column_key])[0]))
        formats.append(str(_scalar(path, options[format_key])[0]))
    text = pl.concat_str([pl.col(c).str.strip_chars() for c in columns], separator=" ")
    fmt = " ".join(formats)
    parsed = _parsed(text, fmt, how)
    problem = pl.when(parsed.is_null() & text.is_not_null()).then(
        pl.format(
            "format:{}\t'{}' does not match the profile's format '{}' (line {})",
            pl.lit(how),
            text.str.slice(0, 60),
            pl.lit(fmt),
            pl.lit(line),
        )
    )
    order = None
    if "%d" in fmt and "%m" in fmt:
        swapped = fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
        order = Order(text, fmt, swapped)
    # A value that does not match keeps its text, so the loader quarantines it and shows it.
    return Column(
        name, line, pl.coalesce(parsed, text), tuple(columns), problem=problem, order=order
    )


def _parsed(text: pl.Expr, fmt: str, how: str) -> pl.Expr:
    if how == "date":
        return text.str.to_date(fmt, strict=False).dt.strftime("%Y-%m-%d")
    return text.str.to_datetime(fmt, strict=False, time_unit="us").dt.strftime("%Y-%m-%dT%H:%M:%S")


#: Seconds in one of a plain number's units (duration: {unit: ...}).
UNITS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
_HMS = r"^(\d+):([0-5]?\d):([0-5]?\d(?:\.\d+)?)$"
_MS = r"^(\d+):([0-5]?\d(?:\.\d+)?)$"
#: An Excel time cell as read: the day after 1899-12-31 counts the whole days.
_EXCEL = r"^(1899-12-31|1900-0[12]-\d\d)[ T](\d{1,2}):(\d\d):(\d\d(?:\.\d+)?)$"
_PLAIN = r"^\d+(?:\.\d+)?$"


def _duration(path: Path, name: str, entry) -> Column:
    """Seconds from H:MM:SS, MM:SS, an Excel time cell or a number of a unit."""
    node, line = entry
    unit = "seconds"
    if isinstance(node, yaml.ScalarNode):
        column = column_name(_plain(node, path))
    else:
        options = _mapping(path, node, f"'{name}: duration'")
        for key, (_, key_line) in options.items():
            if key not in ("column", "unit"):
                _fail(
                    path,
                    key_line,
                    f"'{cut(key)}' is not a duration option{_did_you_mean(key, ('column', 'unit'))}"
                    " (it takes column, unit)",
                )
        if "column" not in options:
            _fail(path, line, "a duration needs 'column'")
        column = column_name(_scalar(path, options["column"])[0])
        if "unit" in options:
            unit, unit_line = _scalar(path, options["unit"])
            if unit not in UNITS:
                _fail(
                    path,
                    unit_line,
                    f"unit '{cut(unit)}' is not one of {', '.join(UNITS)}"
                    f"{_did_you_mean(unit, UNITS)}",
                )
    text = pl.col(column).cast(pl.String).str.strip_chars()

    def part(pattern: str, group: int) -> pl.Expr:
        return text.str.extract(pattern, group).cast(pl.Float64)

    days = (
        text.str.extract(_EXCEL, 1).str.to_date("%Y-%m-%d", strict=False) - pl.date(1899, 12, 31)
    ).dt.total_days()
    seconds = pl.coalesce(
        part(_HMS, 1) * 3600 + part(_HMS, 2) * 60 + part(_HMS, 3),
        days * 86400 + part(_EXCEL, 2) * 3600 + part(_EXCEL, 3) * 60 + part(_EXCEL, 4),
        part(_MS, 1) * 60 + part(_MS, 2),
        part(_PLAIN, 0) * UNITS[unit],
    )
    whole = seconds.round(0, mode="half_away_from_zero").cast(pl.Int64).cast(pl.String)
    problem = pl.when(whole.is_null() & text.is_not_null()).then(
        pl.format(
            "format:duration\t'{}' is not a duration (H:MM:SS, MM:SS, an Excel time or a"
            " number of {}) (line {})",
            text.str.slice(0, 60),
            pl.lit(unit),
            pl.lit(line),
        )
    )
    return Column(name, line, pl.coalesce(whole, text), (column,), problem=problem)


def _filters(path: Path, node, lines: dict, mistakes: _Mistakes) -> tuple[Filter, ...]:
    if node is None:
        return ()
    items = node[0]
    if not isinstance(items, yaml.SequenceNode):
        mistakes.found.append(
            f"{path}:{node[1]}: 'filters' must be a list of {{exclude: condition, reason: text}}"
        )
        return ()
    filters = []
    for item in items.value:
        rule = mistakes.check(None, _filter, path, item)
        if rule is None:
            continue
        for used in rule.inputs:
            lines.setdefault(used, rule.line)
        filters.append(rule)
    return tuple(filters)


def _filter(path: Path, item) -> Filter:
    options = _mapping(path, item, "a filter")
    line = _line(item)
    if set(options) != {"exclude", "reason"}:
        unknown = sorted(set(options) - {"exclude", "reason"})
        hint = _did_you_mean(unknown[0], ("exclude", "reason")) if unknown else ""
        _fail(path, line, f"a filter needs exactly 'exclude' (a condition) and 'reason'{hint}")
    condition, inputs, spelled = _expression(path, options["exclude"])
    reason = str(_scalar(path, options["reason"])[0])
    return Filter(reason, line, condition, tuple(inputs), tuple(spelled))


# --- what the profile finds in a file -------------------------------------------------------


@dataclass(frozen=True)
class _Orders:
    """Rows whose date contradicts the stated day/month order, as problems, and what to say."""

    problems: pl.DataFrame
    notices: tuple[str, ...] = ()


_NO_ORDERS = _Orders(pl.DataFrame(schema={ROW: pl.Int64}))
#: Day/month checks, once per profile and file version.
_ORDER_CACHE: dict[tuple, _Orders] = {}


def _date_orders(path: Path, profile: Profile, rows: pl.LazyFrame | None = None) -> _Orders:
    """Where a date column's values contradict the profile's day/month order.

    A value is *contradicting* when it reads only with day and month swapped, *stated* when
    it reads only as stated, *ambiguous* when it reads both ways as different dates. In a
    column with contradicting values, an ambiguous value whose nearest decisive neighbour
    (before or after it, in file order) contradicts is quarantined: it sits in a block of
    rows written the other way round, so it may be loaded with day and month swapped.
    """
    checked = [c for c in profile.columns if c.order is not None]
    if not checked:
        return _NO_ORDERS
    stat = path.stat()
    key = (profile.digest, str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _ORDER_CACHE:
        return _ORDER_CACHE[key]
    if rows is None:
        rows = profile._kept_rows(path)
    try:
        labels = rows.select(
            pl.col(ROW),
            *(_order_label(c.order).alias(c.name) for c in checked),
            *(c.order.text.alias(f"text:{c.name}") for c in checked),
        ).collect()
    except pl.exceptions.PolarsError as error:  # the export does not read or map
        found = profile.diagnose(path)
        raise FileRefused(
            path, found or f"profile {profile.name} could not map the file ({first_line(error)})"
        ) from None
    problems, notices = [], []
    for column in checked:
        found = _order_problems(labels, column)
        if found is not None:
            problems.append(found[0])
            notices.append(found[1])
    result = _NO_ORDERS
    if problems:
        frame = problems[0]
        for more in problems[1:]:
            frame = frame.join(more, on=ROW, how="full", coalesce=True)
        result = _Orders(frame, tuple(notices))
    _ORDER_CACHE[key] = result
    return result


def _order_label(order: Order) -> pl.Expr:
    stated = order.text.str.to_datetime(order.stated, strict=False, time_unit="us")
    swapped = order.text.str.to_datetime(order.swapped, strict=False, time_unit="us")
    return (
        pl.when(stated.is_null() & swapped.is_not_null())
        .then(pl.lit("contradicts"))
        .when(stated.is_not_null() & swapped.is_null())
        .then(pl.lit("stated"))
        .when(stated != swapped)
        .then(pl.lit("ambiguous"))
    )


def _order_problems(labels: pl.DataFrame, column: Column) -> tuple[pl.DataFrame, str] | None:
    label, text = pl.col(column.name), pl.col(f"text:{column.name}")
    contradicting = labels.filter(label == "contradicts")
    if contradicting.is_empty():
        return None
    order = column.order
    decisive = pl.when(label.is_in(["contradicts", "stated"])).then(label)
    near = labels.with_columns(
        decisive.forward_fill().alias("before"), decisive.backward_fill().alias("after")
    )
    ambiguous = (label == "ambiguous") & (
        (pl.col("before") == "contradicts") | (pl.col("after") == "contradicts")
    )
    where = f"(line {column.line})"
    flagged = near.filter((label == "contradicts") | ambiguous).select(
        pl.col(ROW),
        pl.when(label == "contradicts")
        .then(
            pl.format(
                "date_order:contradicts\t'{}' is not {} as the profile states {} but reads as"
                " {}: this column mixes day/month orders",
                text.str.slice(0, 60),
                pl.lit(order.stated),
                pl.lit(where),
                pl.lit(order.swapped),
            )
        )
        .otherwise(
            pl.format(
                "date_order:ambiguous\t'{}' reads as {} and as {}, among rows written as {}:"
                " quarantined rather than loaded with day and month perhaps swapped",
                text.str.slice(0, 60),
                pl.lit(order.stated),
                pl.lit(order.swapped),
                pl.lit(order.swapped),
            )
        )
        .alias(f"{PROBLEM}{column.name}:order"),
    )
    first = contradicting.row(0, named=True)
    held = flagged.height - contradicting.height
    notice = (
        f"{column.name}: {contradicting.height:,} rows read only as {order.swapped}, against"
        f" the profile's {order.stated} {where}, between rows {first[ROW]:,} and"
        f" {contradicting[ROW].max():,} (e.g. row {first[ROW]:,}:"
        f" '{cut(first[f'text:{column.name}'])}'); {held:,} rows near them that read both ways"
        " were quarantined (date_order:ambiguous) rather than loaded perhaps swapped"
    )
    return flagged, notice


def problems(chunk: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The problems a profile found in a chunk, one row per (row, column, rule, message), and
    the chunk without the problem columns. Checks across rows (`column:check`) come first;
    each column keeps its first problem."""
    names = [c for c in chunk.columns if c.startswith(PROBLEM)]
    schema = {ROW: pl.Int64, "column": pl.String, "rule": pl.String, "message": pl.String}
    if not names:
        return pl.DataFrame(schema=schema), chunk
    names.sort(key=lambda n: -n.count(":"))
    found = [
        chunk.filter(pl.col(n).is_not_null()).select(
            pl.col(ROW),
            pl.lit(n[len(PROBLEM) :].split(":")[0]).alias("column"),
            pl.col(n).str.split_exact("\t", 1).struct.field("field_0").alias("rule"),
            pl.col(n).str.split_exact("\t", 1).struct.field("field_1").alias("message"),
        )
        for n in names
    ]
    frame = pl.concat(found).unique([ROW, "column"], keep="first", maintain_order=True)
    return frame, chunk.drop(names)
