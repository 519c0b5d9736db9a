"""A value DuckDB's typed ingest types is the value etl/loading/read.py gives it, or it is NULL.

NULL sends the row down the checked path (Polars and Great Expectations), so it is always
safe; a different value would load something the checked path would not. Odd shapes are
listed, and Hypothesis writes more: number-like text, and timestamps and dates with fields
out of range.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.loading.ingest import trim_sql, value_sql
from etl.loading.read import _other_timestamp_formats, _parse_column

KINDS = ("str", "number", "int", "bool", "date", "timestamp")
ODD = [
    "1", "-1.5", "+2", "1e3", "1E-2", ".5", "5.", "inf", "-Infinity", "nan", "-nan", "NaN",
    "1_000", "0x10", "0b1", "1d", "1,5", "abc", "9999999999999999999999", "9223372036854775807",
    "9007199254740993", "-0", "2.5", "00012", "1e400", "1e-400", " 7 ", "", "  ",
    "2026-01-05", "2026-1-5", "2026-01-05T10:11:12", "2026-01-05 10:11:12.123456789",
    "2026-01-05T10:11", "2026-01-05T9:05", "2026-01-05T10:11:12Z", "2026-01-05T10:11Z",
    "2026-01-05T10:11:12+01:00", "2026-01-05T10:11:12.5+0100", "2026-01-05T10:11:12-05",
    "20260105", "2026-13-01", "2026-02-29", "2024-02-29", "2026-01-05T25:00",
    "2026-01-05T24:00:00", "2026-01-05T10:11:12.", "2026-01-05T10:11:60", "2026-01-05t10:11:12",
    "2026-01-05T10:11:61", "12026-01-05", "0000-01-05T10:11:12", "-2026-01-05", "+2026-01-05",
    "2026-01-05T10:11:12 ", "true", "Yes", "0", "T", "FALSE", "n", "ja", "TRUE ", "ｔｒｕｅ",
]  # fmt: skip


def _on_both(kind: str, values: list[str]) -> tuple[pl.Series, pl.Series]:
    """(DuckDB's typed values, Polars' typed values) for the same text."""
    text = pl.DataFrame({"v": values}, schema={"v": pl.String})
    con = duckdb.connect()
    try:
        con.register("text", text.with_row_index("i").to_arrow())
        typed = value_sql(kind, "nullif(trim(v), '')")
        duck = con.sql(f"SELECT {typed} AS v FROM text ORDER BY i").pl()["v"]
    finally:
        con.close()
    cleaned = text.with_columns(pl.col("v").str.strip_chars().replace("", None))
    polars = cleaned.select(_parse_column("v", kind))
    if kind == "timestamp":
        polars = _other_timestamp_formats(cleaned, polars, ["v"])
    return duck, polars["v"]


def _disagreements(kind: str, values: list[str]) -> list[tuple]:
    """The values DuckDB types differently from Polars (as text: (value, DuckDB's, Polars'))."""
    duck, polars = _on_both(kind, values)
    assert duck.dtype == polars.dtype, kind
    same = (duck == polars).fill_null(False)
    if duck.dtype == pl.Float64:
        same = same | (duck.is_nan() & polars.is_nan()).fill_null(False)
    differ = duck.is_not_null() & ~same
    return list(
        zip(
            pl.Series(values).filter(differ).to_list(),
            duck.filter(differ).cast(pl.String).to_list(),
            polars.filter(differ).cast(pl.String).to_list(),
            strict=True,
        )
    )


@pytest.mark.parametrize("kind", KINDS)
def test_odd_values_are_typed_as_polars_types_them_or_left_to_it(kind):
    assert _disagreements(kind, ODD) == []


def test_the_usual_shapes_are_typed_in_duckdb():
    """The point of the path: the values exports normally carry are not left to Polars."""
    usual = {
        "str": ["A-1", " padded "],
        "number": ["12.5", "-3", "0"],
        "int": ["42", "0", "-7", "3.0"],
        "bool": ["true", "False", "1", "no"],
        "date": ["2026-01-05", "2024-02-29"],
        "timestamp": ["2026-01-05T10:11:12", "2024-02-29T23:59:59", "2026-01-05 10:11:12"],
    }
    for kind, values in usual.items():
        duck, polars = _on_both(kind, values)
        assert duck.null_count() == 0 and duck.equals(polars), kind


_FIELD = st.integers(0, 99).map(lambda n: f"{n:02d}") | st.integers(0, 9).map(str)
_TIMESTAMPS = st.builds(
    lambda y, mo, d, sep, h, mi, s, tail: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{tail}",
    st.sampled_from(["2026", "2024", "0001", "9999", "10000", "1900"]),
    _FIELD,
    _FIELD,
    st.sampled_from(["T", " ", "t"]),
    _FIELD,
    _FIELD,
    _FIELD,
    st.sampled_from(["", ".5", ".123456", "Z", "+01:00", "-0530", " "]),
)
_NUMBERS = st.text(st.sampled_from("0123456789.-+eE_x, infa"), max_size=10) | st.floats().map(repr)


@pytest.mark.generated  # Hypothesis's files: the generated-data tier (docs/testing.md)
@settings(max_examples=60, deadline=None)
@given(st.lists(_NUMBERS | _TIMESTAMPS, min_size=1, max_size=40))
def test_any_text_is_typed_as_polars_types_it_or_left_to_it(values):
    for kind in ("number", "int", "date", "timestamp"):
        assert _disagreements(kind, values) == [], kind


def test_duckdb_trims_exactly_the_characters_polars_trims():
    """Every character up to U+3000 and a few beyond, as padding: the typed ingest's trim
    must remove exactly what Polars' strip_chars() removes (else it sends rows astray)."""
    characters = [chr(c) for c in [*range(1, 0x3001), 0x180E, 0x200B, 0xFEFF]]
    padded = [f"{c}{c}x {c}x{c}" for c in characters]
    by_polars = pl.Series(padded).str.strip_chars().to_list()
    rows = duckdb.connect().execute(
        f"SELECT {trim_sql('v')} FROM unnest($values::VARCHAR[]) WITH ORDINALITY AS t(v, i)"
        " ORDER BY i",
        {"values": padded},
    )
    assert [r[0] for r in rows.fetchall()] == by_polars
    assert sum(v == "x " + c + "x" for c, v in zip(characters, by_polars, strict=True)) == 25


def test_a_parquet_double_types_as_polars_types_its_own_text(tmp_path):
    """DuckDB writes a double's text differently ('1e-08' against Polars' '1e-8') but both
    read back to the same number, so a Parquet double is typed in DuckDB; a float is not
    (DuckDB's '2173219.25' against Polars' '2173219.2'), so its file is left to Polars."""
    import numpy as np

    from etl.contract.sources import WORKFORCE
    from etl.loading.ingest import parquet_read

    rng = np.random.default_rng(7)
    doubles = rng.standard_normal(5000) * 10.0 ** rng.integers(-12, 12, 5000)
    path = tmp_path / "w.parquet"
    pl.DataFrame({"cost": doubles}).write_parquet(path)
    by_polars = _parse_column("cost", "number")
    expected = pl.read_parquet(path).select(pl.col("cost").cast(pl.String)).select(by_polars)
    con = duckdb.connect()
    got = con.execute(
        f"SELECT {value_sql('number', 'CAST(cost AS VARCHAR)')} FROM read_parquet($p)",
        {"p": str(path)},
    ).fetchall()
    assert [r[0] for r in got] == expected["cost"].to_list()
    pl.DataFrame({"cost": doubles.astype(np.float32)}).write_parquet(path)
    assert parquet_read(con, path, WORKFORCE, ["cost"]) is None
