"""Time and memory limits hold inside one scalar function, where DuckDB's own do not look.

DuckDB checks `max_execution_time` and `memory_limit` between operators; a single call of
levenshtein() or repeat() runs and allocates past both. Each query therefore runs in a worker
process that is killed at the time limit and cannot map more than the memory limit.
"""

from __future__ import annotations

import threading
import time

import pytest

from etl.warehouse.sandbox import Limits, Refused, Sandbox
from tests.conftest import run_cxkpi

#: About 7 s of one core in a single levenshtein() call (quadratic in the length).
SLOW = "SELECT levenshtein(repeat('a', 60000), repeat('b', 60000)) AS d"
#: One 800 MB string, built by one repeat() call outside DuckDB's buffer manager.
HUGE = "SELECT length(repeat('x', 800000000)) AS n"


@pytest.fixture(scope="module")
def sandbox(sample_db):
    with Sandbox(sample_db, Limits(timeout_seconds=1, memory_limit="200MB")) as box:
        yield box


def test_a_cpu_heavy_function_is_stopped_at_the_time_limit(sandbox):
    started = time.monotonic()
    with pytest.raises(Refused, match=r"ran longer than the 1 s limit and was stopped"):
        sandbox.run(SLOW)
    assert time.monotonic() - started < 3
    assert sandbox.run("SELECT 42 AS x").frame.item() == 42  # and the next query runs


def test_a_download_is_stopped_at_the_time_limit_too(sandbox):
    started = time.monotonic()
    with pytest.raises(Refused, match=r"ran longer than the 1 s limit"):
        sandbox.download(SLOW, "csv")
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("call", ["run", "download"])
def test_a_huge_value_is_stopped_at_the_memory_limit(sandbox, call):
    with pytest.raises(Refused, match=r"needed more than the 200MB memory limit and was stopped"):
        if call == "run":
            sandbox.run(HUGE)
        else:
            sandbox.download(HUGE, "parquet")
    assert sandbox.run("SELECT 42 AS x").frame.item() == 42


def test_other_queries_answer_while_one_is_being_stopped(sample_db):
    """The workbench shares one sandbox between sessions: a runaway holds up no one else."""
    with Sandbox(sample_db, Limits(timeout_seconds=3), spare=1) as box:  # as dashboard/data.py
        box.run("SELECT 1")
        outcome: list[BaseException] = []

        def runaway() -> None:
            try:
                box.run(SLOW)
            except Refused as refused:
                outcome.append(refused)

        thread = threading.Thread(target=runaway)
        thread.start()
        time.sleep(0.3)
        started = time.monotonic()
        assert box.run("SELECT count(*) > 0 FROM department_month").frame.item()
        assert time.monotonic() - started < 1.5
        thread.join(10)
        assert outcome and "3 s limit" in str(outcome[0])


def test_cxkpi_sql_stops_at_its_timeout_with_one_line(sample_db):
    started = time.monotonic()
    result = run_cxkpi("--db", str(sample_db), "sql", "--timeout", "1", SLOW)
    assert time.monotonic() - started < 8
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "ran longer than the 1 s limit and was stopped" in result.stderr


def test_cxkpi_sql_stops_at_its_memory_limit_with_one_line(sample_db, monkeypatch):
    monkeypatch.setenv("CXKPI_SQL_MEMORY", "200MB")
    result = run_cxkpi("--db", str(sample_db), "sql", HUGE)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "needed more than the 200MB memory limit" in result.stderr


def test_a_huge_query_is_refused_before_it_is_parsed(sandbox):
    """The parse and check run in the caller, outside the worker's limits: they are bounded."""
    huge = "SELECT 1 IN (" + ",".join(map(str, range(600_000))) + ") AS x"
    started = time.monotonic()
    with pytest.raises(Refused, match=r"characters long; the limit is 100,000"):
        sandbox.run(huge)
    assert time.monotonic() - started < 1


def test_a_deeply_nested_query_is_refused_in_one_line(sample_db):
    deep = "SELECT " + "+".join(["1"] * 400) + " AS x"
    result = run_cxkpi("--db", str(sample_db), "sql", deep)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
