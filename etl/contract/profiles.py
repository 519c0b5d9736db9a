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
import hashlib
import tempfile
from collections.abc import Iterator
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
#: Profiles shipped with cxkpi; the user's folder (user_folder()) is searched first.
SHIPPED = Path(__file__).parent / "profiles"
ENCODINGS = ("utf-8", "latin-1", "windows-1252", "utf-16")
SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx", ".parquet")
_HOWS = ("column", "timestamp", "date", "constant", "expression")
_TOP = ("source", "description", "read", "columns", "filters", "drop")


#: A profile that cannot be used, named by file and line.
ProfileError = ConfigError


@dataclass(frozen=True)
class Column:
    """How one contract column is made: its expression and the export columns it reads."""

    name: str
    line: int
    expr: pl.Expr
    inputs: tuple[str, ...]
    #: Export columns as an expression spells them (matched to the file case-insensitively).
    spelled: tuple[str, ...] = ()


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
        return (used | {c for f in self.filters for c in f.inputs}) - {ROW}

    def scan(self, path: Path) -> pl.LazyFrame:
        """The export as the contract's text frame (see the module docstring)."""
        frame = _read(path, self)
        names = frame.collect_schema().names()
        missing = sorted(self.inputs - set(names))
        if missing:
            lines = ", ".join(f"'{m}' (line {self.lines.get(m, '?')})" for m in missing)
            raise FileRefused(
                path,
                f"profile {self.name} reads column(s) {lines} that the file does not have;"
                f" it has: {', '.join(n for n in names if n != ROW)[:400]}",
            )
        kept = [n for n in names if n != ROW and n not in self.drop]
        frame = self._with_spellings(frame, names)
        reason = pl.lit(None, dtype=pl.String)
        for rule in reversed(self.filters):
            reason = (
                pl.when(rule.condition.fill_null(False)).then(pl.lit(rule.reason)).otherwise(reason)
            )
        raw = (
            pl.lit(None, dtype=pl.String)
            if self.source.anonymous or not kept
            else pl.struct(kept).struct.json_encode()
        )
        return frame.select(
            pl.col(ROW),
            *(c.expr.cast(pl.String).alias(c.name) for c in self.columns),
            reason.alias(FILTERED),
            raw.alias(RAW),
        )

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
        parts = [(c.line, f"'{c.name}'", c.expr) for c in self.columns]
        parts += [(f.line, f"the filter '{f.reason}'", f.condition) for f in self.filters]
        for line, what, expr in parts:
            try:
                frame.select(expr).collect()
            except Exception as error:  # the failure being looked for
                return f"{self.path}:{line}: {what} failed on this file: {first_line(error)}"
        return None


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


def parse(path: Path) -> Profile:
    """Read and check a profile; every problem names the file and line."""
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
    read = _read_options(path, top.get("read"))
    drop = tuple(
        column_name(v) for v, _ in (_sequence(path, top["drop"], "drop") if "drop" in top else [])
    )
    lines: dict[str, int] = {}
    columns = _columns(path, source, top.get("columns"), lines)
    filters = _filters(path, top.get("filters"), lines)
    for column in columns:
        leaked = sorted(set(column.inputs) & set(drop))
        if leaked:
            _fail(
                path,
                column.line,
                f"'{column.name}' is made from dropped (personal) column(s)"
                f" {cut(', '.join(leaked))}",
            )
    description = _scalar(path, top["description"])[0] if "description" in top else ""
    return Profile(
        name=path.stem,
        path=path,
        source=source,
        description=str(description),
        columns=columns,
        filters=filters,
        drop=drop,
        lines=lines,
        digest=hashlib.sha256(text.encode()).hexdigest()[:12],
        **read,
    )


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


def _columns(path: Path, source: Source, node, lines: dict) -> tuple[Column, ...]:
    if node is None:
        _fail(path, 1, "'columns' is missing: how each contract column is made")
    entries = _mapping(path, node[0], "'columns'")
    known = set(source.column_names)
    columns = []
    for name, (spec, line) in entries.items():
        extra_item = source.extra_columns == "q_items" and name.startswith("q_")
        if name not in known and not extra_item:
            _fail(
                path,
                line,
                f"'{cut(name)}' is not a column of source '{source.name}'"
                f" (its columns: {', '.join(source.column_names)})",
            )
        expr, inputs, spelled = _column(path, name, spec, line)
        for used in inputs:
            lines.setdefault(used, line)
        columns.append(Column(name, line, expr, tuple(inputs), tuple(spelled)))
    produced = {c.name for c in columns}
    missing = [c for c in source.required_columns if c not in produced]
    if missing:
        _fail(
            path,
            node[1],
            f"required column(s) {', '.join(missing)} of source '{source.name}' are not mapped",
        )
    return tuple(columns)


def _column(
    path: Path, name: str, spec: yaml.Node, line: int
) -> tuple[pl.Expr, list[str], list[str]]:
    """The expression making a contract column, the export columns it reads, and as spelled."""
    if isinstance(spec, yaml.ScalarNode):
        column = column_name(_plain(spec, path))
        return pl.col(column), [column], []
    options = _mapping(path, spec, f"'{name}'")
    hows = [h for h in _HOWS if h in options]
    if len(hows) != 1:
        _fail(path, line, f"'{cut(name)}' needs exactly one of {', '.join(_HOWS)}")
    how = hows[0]
    allowed = {
        "column": {"column", "values", "scale", "reverse"},
        "timestamp": {"timestamp"},
        "date": {"date"},
        "constant": {"constant"},
        "expression": {"expression"},
    }[how]
    for key, (_, key_line) in options.items():
        if key not in allowed:
            _fail(path, key_line, f"'{cut(key)}' cannot be used with '{how}' in '{cut(name)}'")
    if how == "constant":
        value, _ = _scalar(path, options["constant"])
        return pl.lit(None if value is None else str(value), dtype=pl.String), [], []
    if how == "expression":
        return _expression(path, options["expression"])
    if how in ("timestamp", "date"):
        return (*_when(path, name, how, options[how]), [])
    column = column_name(_scalar(path, options["column"])[0])
    expr = pl.col(column)
    if "values" in options:
        expr = _values(path, options["values"], expr)
    if "scale" in options or "reverse" in options:
        expr = _scale(path, options, expr)
    return expr, [column], []


def _expression(path: Path, entry: tuple[yaml.Node, int]) -> tuple[pl.Expr, list[str], list[str]]:
    text, line = _scalar(path, entry)
    try:
        checked = column_sql(str(text))
    except ExpressionRefused as refused:
        reason = str(refused)
        quoted = "" if reason.startswith("does not parse") else f"{cut(text, 40)!r}: "
        _fail(path, line, f"the expression {quoted}{reason}")
    try:
        expr = pl.sql_expr(checked)
        spelled = expr.meta.root_names()
    except Exception as error:  # polars raises SQLSyntaxError, InvalidOperationError, ...
        _fail(path, line, f"the expression does not parse: {first_line(error)}")
    return expr, [column_name(c) for c in spelled], spelled


def _when(path: Path, name: str, how: str, entry) -> tuple[pl.Expr, list[str]]:
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
    for key, (_, key_line) in options.items():
        if key not in {k for pair in parts for k in pair}:
            _fail(path, key_line, f"'{cut(key)}' is not a {how} option here")
    columns, formats = [], []
    for column_key, format_key in parts:
        if format_key not in options:
            _fail(path, line, f"'{format_key}' is missing for '{column_key}'")
        columns.append(column_name(_scalar(path, options[column_key])[0]))
        formats.append(str(_scalar(path, options[format_key])[0]))
    text = pl.concat_str([pl.col(c).str.strip_chars() for c in columns], separator=" ")
    fmt = " ".join(formats)
    if how == "date":
        parsed = text.str.to_date(fmt, strict=False).dt.strftime("%Y-%m-%d")
    else:
        parsed = text.str.to_datetime(fmt, strict=False, time_unit="us").dt.strftime(
            "%Y-%m-%dT%H:%M:%S"
        )
    # A value that does not match keeps its text, so the loader quarantines it and shows it.
    return pl.coalesce(parsed, text), columns


def _values(path: Path, entry, expr: pl.Expr) -> pl.Expr:
    node, line = entry
    if not isinstance(node, yaml.MappingNode):
        _fail(path, line, "'values' must map export codes to contract values")
    mapping = {}
    for key, value in node.value:
        code, meant = _plain(key, path), _plain(value, path)
        mapping[str(code)] = None if meant is None else str(meant)
    text = expr.cast(pl.String).str.strip_chars()
    return text.replace(list(mapping), list(mapping.values()))


def _scale(path: Path, options: dict, expr: pl.Expr) -> pl.Expr:
    low_from, high_from, low_to, high_to = 1, 5, 1, 5
    if "scale" in options:
        node, line = options["scale"]
        scale = _plain(node, path)
        try:
            (low_from, high_from), (low_to, high_to) = scale["from"], scale["to"]
            assert high_from > low_from and high_to > low_to
        except Exception:
            _fail(path, line, "scale must be {from: [low, high], to: [low, high]}")
        if not {"from", "to"} >= set(scale):
            _fail(path, line, "scale takes only 'from' and 'to'")
    reverse = bool(_scalar(path, options["reverse"])[0]) if "reverse" in options else False
    number = expr.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    share = (number - low_from) / (high_from - low_from)
    if reverse:
        share = 1 - share
    converted = low_to + share * (high_to - low_to)
    converted = converted.round(0, mode="half_away_from_zero").cast(pl.Int64).cast(pl.String)
    # Text that is not a number passes through, so the loader quarantines it as it was sent.
    return pl.when(number.is_null()).then(expr.cast(pl.String)).otherwise(converted)


def _filters(path: Path, node, lines: dict) -> tuple[Filter, ...]:
    if node is None:
        return ()
    items = node[0]
    if not isinstance(items, yaml.SequenceNode):
        _fail(path, node[1], "'filters' must be a list of {exclude: condition, reason: text}")
    filters = []
    for item in items.value:
        options = _mapping(path, item, "a filter")
        line = _line(item)
        if set(options) != {"exclude", "reason"}:
            _fail(path, line, "a filter needs exactly 'exclude' (a condition) and 'reason'")
        condition, inputs, spelled = _expression(path, options["exclude"])
        for used in inputs:
            lines.setdefault(used, line)
        reason = str(_scalar(path, options["reason"])[0])
        filters.append(Filter(reason, line, condition, tuple(inputs), tuple(spelled)))
    return tuple(filters)


# --- cxkpi profile check ---------------------------------------------------------------------


def check(profile: Profile, file: Path | None, rows: int = 5) -> Iterator[tuple[str, bool]]:
    """Lines describing the profile, and with a file how it fits; each with whether it is fine."""
    yield f"{profile.name} ({profile.path}): feeds '{profile.source.name}'", True
    if profile.description:
        yield f"  {profile.description}", True
    for column in profile.columns:
        made_from = ", ".join(column.inputs) or "a constant"
        yield f"  {column.name} <- {made_from} (line {column.line})", True
    unmapped = [c for c in profile.source.column_names if c not in profile.header()]
    if unmapped:
        yield f"  optional columns not mapped: {', '.join(unmapped)}", True
    for rule in profile.filters:
        yield f"  set aside: {rule.reason} (line {rule.line})", True
    if profile.drop:
        yield f"  personal data, never stored: {', '.join(profile.drop)}", True
    if file is None:
        yield "profile OK; give an export file to compare and preview", True
        return
    try:
        names = [n for n in _read(file, profile).collect_schema().names() if n != ROW]
    except FileRefused as refused:
        yield f"{file}: {refused.reason}", False
        return
    missing = sorted(profile.inputs - set(names))
    if missing:
        lines = ", ".join(f"'{m}' (line {profile.lines.get(m, '?')})" for m in missing)
        yield f"{file}: the profile reads column(s) the file does not have: {lines}", False
        return
    ignored = [n for n in names if n not in profile.inputs and n not in profile.drop]
    if ignored:
        yield (
            f"{file}: columns the profile does not use (ignored, never stored): "
            + ", ".join(ignored),
            True,
        )
    absent = [d for d in profile.drop if d not in names]
    if absent:
        yield f"{file}: dropped columns not in this file: {', '.join(absent)}", True
    try:
        frame = profile.scan(file)
        counts = frame.group_by(FILTERED).len().collect()
        preview = frame.drop(RAW).head(rows).collect()
    except Exception as error:  # an expression that fails on this file's values
        yield f"{file}: the mapping failed: {first_line(error)}", False
        return
    total = int(counts["len"].sum())
    aside = {r: n for r, n in counts.iter_rows() if r is not None}
    summary = f"{file}: {total:,} data rows"
    if aside:
        summary += "; set aside: " + ", ".join(f"{r} x{n:,}" for r, n in aside.items())
    yield summary, True
    with pl.Config(tbl_cols=-1, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
        yield f"first {preview.height} mapped rows:\n{preview}", True
