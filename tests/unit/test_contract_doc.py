"""docs/contract.md describes the contract etl/contract/sources.py enforces, and no other."""

from __future__ import annotations

import re
from pathlib import Path

from etl.contract.sources import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    CHANNELS,
    DUCKDB_TYPES,
    FUNCTIONS,
    SOURCES,
)
from etl.warehouse.sandbox import CONTRACT_VIEWS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "contract.md").read_text()


def table_rows(heading: str) -> dict[str, list[str]]:
    """The table under a heading (before the next heading), keyed by its first cell."""
    section = DOC.split(f"\n{heading}\n", 1)[1].split("\n#", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")][2:]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    return {row[0].strip("`"): row[1:] for row in cells}


def names(cell: str) -> list[str]:
    return [] if cell == "–" else [n.strip() for n in cell.split(",")]


def test_every_source_with_its_grain_key_and_columns():
    rows = table_rows("## Input files")
    assert list(rows) == list(SOURCES)
    for source in SOURCES.values():
        grain, key, required, optional = rows[source.name]
        assert source.grain == f"one row per {grain}"
        assert names(key) == list(source.key)
        assert names(required) == source.required_columns
        assert names(optional) == [c.name for c in source.columns if not c.required]


def test_every_type_with_its_stored_type():
    rows = table_rows("### Types")
    assert {t: cells[-1] for t, cells in rows.items()} == DUCKDB_TYPES


def test_booleans_channels_and_functions_as_the_reader_accepts_them():
    accepted = table_rows("### Types")["bool"][0]
    assert re.findall(r"`(\w+)`", accepted) == [*BOOLEAN_TRUE, *BOOLEAN_FALSE]
    assert ", ".join(CHANNELS) in DOC
    assert ", ".join(FUNCTIONS) in DOC


def test_every_quarantine_rule_is_explained():
    described = (ROOT / "sql" / "marts" / "quarantine.yml").read_text()
    rules = re.search(r"First rule broken: ([^\"]+)\.", described)[1].split(", ")
    section = DOC.split("### Rules a row must pass", 1)[1].split("\n#", 1)[0]
    assert len(rules) > 5
    assert [r for r in rules if f"`{r}`" not in section] == []


def test_the_output_views_are_the_contract_views():
    assert tuple(table_rows("## Output views")) == CONTRACT_VIEWS
