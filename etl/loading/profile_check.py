"""`cxkpi profile check`: a profile described, and with a file, the verdict loading would give."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from etl.contract.profiles import FILTERED, ROW, Profile, _read
from etl.errors import FileRefused, first_line

#: Unmapped codes listed by name per column; the rest are counted.
_LISTED = 10


def _closed(profile: Profile, name: str) -> bool:
    """Whether the contract column takes a closed set of values (a list, or department ids),
    so that a code its value map leaves alone is likely a code the map missed. A map on an id
    or a free-text column (`"0": null`) leaves every other value alone on purpose."""
    column = profile.source.column(name)
    return column.allowed is not None or column.references_departments


def _unmapped(profile: Profile, file: Path, db_path: Path | None) -> Iterator[tuple[str, bool]]:
    """A warning per closed-set column listing codes no value-map entry maps, with counts
    (a department id the warehouse knows is no missed code)."""
    from etl.loading.dry_run import known_departments

    columns = [
        c
        for c in profile.columns
        if c.codes is not None and c.normalised is not None and _closed(profile, c.name)
    ]
    if not columns:
        return
    kept = profile._kept_rows(file)
    for column in columns:
        contract = profile.source.column(column.name)
        allowed = set(contract.allowed or ())
        if contract.references_departments and db_path is not None:
            allowed |= known_departments(db_path)
        counts = (
            kept.select(column.normalised.alias("code"))
            .drop_nulls()
            .group_by("code")
            .len()
            .filter(~pl.col("code").is_in(sorted(column.codes | allowed)))
            .sort(["len", "code"], descending=[True, False])
            .collect()
        )
        if counts.height:
            listed = ", ".join(f"'{c}' x{n:,}" for c, n in counts.head(_LISTED).iter_rows())
            if counts.height > _LISTED:
                rest = counts.slice(_LISTED)
                listed += f", and {rest.height:,} more codes ({int(rest['len'].sum()):,} rows)"
            yield f"warning: {column.name}: codes no value-map entry maps: {listed}", True


def _dry_run(profile: Profile, file: Path, db_path: Path | None) -> Iterator[tuple[str, bool]]:
    """The verdict `cxkpi validate --profile` gives: counts, and quarantined rows by rule."""
    from etl.loading.dry_run import check_files, known_departments

    db = db_path if db_path is not None else Path("/nonexistent/cxkpi.duckdb")
    for checked in check_files([(file, None)], db, 1, profile):
        result = checked.result
        yield result.summary(), result.ok
        for label, example in checked.rules:
            yield f"  {label}, e.g. {example}", result.ok
        refers = any(c.references_departments for c in profile.source.columns)
        if refers and result.rows_quarantined and not known_departments(db):
            yield (
                f"  no departments are loaded in {db}: load the departments file first, or"
                " give the warehouse with --db, to check department ids",
                result.ok,
            )


def check(
    profile: Profile, file: Path | None, rows: int = 5, db_path: Path | None = None
) -> Iterator[tuple[str, bool]]:
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
        internal = [n for n in frame.collect_schema().names() if n.startswith("_") and n != ROW]
        preview = frame.drop(internal).head(rows).collect()
    except Exception as error:  # an expression that fails on this file's values
        yield f"{file}: the mapping failed: {first_line(error)}", False
        return
    total = int(counts["len"].sum())
    aside = {r: n for r, n in counts.iter_rows() if r is not None}
    summary = f"{file}: {total:,} data rows"
    if aside:
        summary += "; set aside: " + ", ".join(f"{r} x{n:,}" for r, n in aside.items())
    yield summary, True
    yield from _unmapped(profile, file, db_path)
    yield from _dry_run(profile, file, db_path)
    with pl.Config(tbl_cols=-1, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
        yield f"first {preview.height} mapped rows:\n{preview}", True
