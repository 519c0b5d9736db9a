"""Validate normalised rows against the contract with Great Expectations, in bounded batches."""

from __future__ import annotations

import itertools
import logging
import sys
from dataclasses import dataclass
from functools import cache

import polars as pl

from etl.contract.sources import ALL_DEPARTMENTS, Source
from etl.loading.read import PROBLEM_SCHEMA, ROW

_ANSWERS = "_answers"
#: Prefix of the helper column that is 1 where a column holds a value it must not (empty_when).
_NOT_EMPTY = "_not_empty_"


@dataclass(frozen=True)
class Rule:
    """One contract rule as a GX expectation, with the names a user sees in quarantine."""

    expectation: object
    column: str
    rule: str
    message: str


def _import_gx():
    """Great Expectations, imported so that pyspark (the [spark] extra) cannot end the process.

    GX imports pyspark when it is installed, and pyspark exits a process whose main module has
    no file, taking it for a doctest run: `python -c`, a pytest-xdist worker. The main module
    gets a file for the time of the import only.
    """
    main = sys.modules.get("__main__")
    if main is None or hasattr(main, "__file__") or "great_expectations" in sys.modules:
        import great_expectations

        return great_expectations
    main.__file__ = __file__
    try:
        import great_expectations
    finally:
        del main.__file__
    return great_expectations


def rules_for(source: Source, department_ids: frozenset[str]) -> list[Rule]:
    """The GX expectations that encode a source's contract rules."""
    _import_gx()
    import great_expectations.expectations as gxe

    rules: list[Rule] = []
    for c in source.columns:
        if c.must_have_value:
            rules.append(
                Rule(
                    gxe.ExpectColumnValuesToNotBeNull(column=c.name),
                    c.name,
                    "not_null",
                    f"{c.name} is required",
                )
            )
        if c.min is not None or c.max is not None:
            rules.append(
                Rule(
                    gxe.ExpectColumnValuesToBeBetween(
                        column=c.name, min_value=c.min, max_value=c.max, strict_min=c.min_exclusive
                    ),
                    c.name,
                    "range",
                    _range_text(c),
                )
            )
        if c.allowed is not None:
            rules.append(
                Rule(
                    gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=list(c.allowed)),
                    c.name,
                    "allowed_values",
                    f"{c.name} must be one of "
                    f"{', '.join(c.allowed[:8])}{' ...' if len(c.allowed) > 8 else ''}",
                )
            )
        if c.references_departments:
            known = sorted(
                department_ids | ({ALL_DEPARTMENTS} if c.allow_all_departments else set())
            )
            rules.append(
                Rule(
                    gxe.ExpectColumnValuesToBeInSet(column=c.name, value_set=known),
                    c.name,
                    "known_department",
                    f"{c.name} is not a department_id in departments",
                )
            )
        if c.not_above:
            rules.append(
                Rule(
                    gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                        column_A=c.not_above,
                        column_B=c.name,
                        or_equal=True,
                        ignore_row_if="either_value_is_missing",
                    ),
                    c.name,
                    "not_above",
                    f"{c.name} must not exceed {c.not_above}",
                )
            )
        if c.empty_when:
            other, value = c.empty_when
            rules.append(
                Rule(
                    gxe.ExpectColumnValuesToBeBetween(column=_NOT_EMPTY + c.name, max_value=0),
                    c.name,
                    "empty_when",
                    f"{c.name} must be empty when {other} is {value}",
                )
            )
    if source.at_least_one_of:
        names = ", ".join(source.at_least_one_of)
        rules.append(
            Rule(
                gxe.ExpectColumnValuesToBeBetween(column=_ANSWERS, min_value=1),
                names,
                "at_least_one_of",
                f"at least one of {names} must have a value",
            )
        )
    return rules


def _range_text(c) -> str:
    low = "" if c.min is None else f"{'>' if c.min_exclusive else '>='} {c.min:g}"
    high = "" if c.max is None else f"<= {c.max:g}"
    return f"{c.name} must be {' and '.join(p for p in (low, high) if p)}"


def validate(source: Source, typed: pl.DataFrame, department_ids: frozenset[str]) -> pl.DataFrame:
    """Failures of every row-level contract rule: one row per (row, rule) with column and message.

    Rules over the whole file (unique keys) run in SQL over the staged file: a chunk cannot
    see the other chunks.
    """
    rules = rules_for(source, department_ids)
    return _validate_batch(
        source.name, _with_helpers(source, typed), rules, _suite(source.name, rules)
    )


def _with_helpers(source: Source, typed: pl.DataFrame) -> pl.DataFrame:
    helpers = [
        (pl.col(c.name).is_not_null() & (pl.col(c.empty_when[0]) == c.empty_when[1]))
        .fill_null(False)
        .cast(pl.Int32)
        .alias(_NOT_EMPTY + c.name)
        for c in source.columns
        if c.empty_when
    ]
    if source.at_least_one_of:
        answers = pl.sum_horizontal(
            pl.col(c).is_not_null().cast(pl.Int32) for c in source.at_least_one_of
        )
        helpers.append(answers.alias(_ANSWERS))
    return typed.with_columns(helpers) if helpers else typed


def validate_spark(source: Source, frame, department_ids: frozenset[str]) -> pl.DataFrame:
    """validate() for a Spark DataFrame of typed rows: the same rules, as the same GX suite,
    run by GX's Spark execution engine; the same failures come back (docs/scale-out.md)."""
    from pyspark.sql import functions as F

    rules = rules_for(source, department_ids)
    for c in (c for c in source.columns if c.empty_when):
        other, value = c.empty_when
        broken = F.col(c.name).isNotNull() & (F.col(other) == F.lit(value))
        frame = frame.withColumn(_NOT_EMPTY + c.name, F.coalesce(broken, F.lit(False)).cast("int"))
    if source.at_least_one_of:
        answers = sum(F.col(c).isNotNull().cast("int") for c in source.at_least_one_of)
        frame = frame.withColumn(_ANSWERS, answers)
    batch = _batch_definition(source.name, "spark").get_batch(
        batch_parameters={"dataframe": frame.drop(*_not_validated(frame.columns))}
    )
    return _failures(batch, rules, _suite(source.name, rules))


def _validate_batch(name: str, part: pl.DataFrame, rules: list[Rule], suite) -> pl.DataFrame:
    batch = _batch_definition(name).get_batch(batch_parameters={"dataframe": _pandas(part)})
    return _failures(batch, rules, suite)


def _failures(batch, rules: list[Rule], suite) -> pl.DataFrame:
    """One row per (row, rule) the batch fails, whichever engine the batch is on."""
    result = batch.validate(
        suite, result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [ROW]}
    )
    by_id = {rule.expectation.id: rule for rule in rules}
    rows = []
    for outcome in result.results:
        rule = by_id[outcome.expectation_config.id]
        if outcome.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"validation of {rule.rule} on {rule.column} failed: "
                f"{outcome.exception_info.get('exception_message')}"
            )
        if outcome.success:
            continue
        for item in outcome.result.get("unexpected_index_list") or []:
            rows.append((int(item[ROW]), rule.column, rule.rule, rule.message))
    return pl.DataFrame(rows, schema=PROBLEM_SCHEMA, orient="row")


def _pandas(part: pl.DataFrame):
    return part.drop(_not_validated(part.columns)).to_pandas()


def _not_validated(columns: list[str]) -> list[str]:
    """Columns GX is not given: ours (lineage, extras) but the row number and the helpers."""
    return [
        c
        for c in columns
        if c.startswith("_") and c not in (ROW, _ANSWERS) and not c.startswith(_NOT_EMPTY)
    ]


@cache
def _context():
    gx = _import_gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    # GX fingerprints every pandas batch under 1 GB (an md5 over pandas' row hashes, twice per
    # validation) for its batch markers only, which cxkpi never reads. At 3M interactions that
    # was 4.8 s of a 23 s load, twice the expectations themselves (docs/benchmarks.md).
    pandas_execution_engine.HASH_THRESHOLD = 0
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


@cache
def _batch_definition(name: str, engine: str = "pandas"):
    sources = _context().data_sources
    add = sources.add_spark if engine == "spark" else sources.add_pandas
    source = add(f"cxkpi_{engine}_{name}")
    return source.add_dataframe_asset(name).add_batch_definition_whole_dataframe("file")


_SUITE_NUMBERS = itertools.count(1)


def _suite(name: str, rules: list[Rule]):
    import great_expectations as gx

    context = _context()
    suite = gx.ExpectationSuite(f"{name}_{next(_SUITE_NUMBERS)}")
    for rule in rules:
        suite.add_expectation(rule.expectation)
    return context.suites.add(suite)
