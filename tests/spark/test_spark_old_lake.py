"""A lake written before a contract column was added still builds on Spark: its raw rows
read the new column as empty, beside later loads that have it (etl/scaleout/spark.py)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from etl.scaleout import spark

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def session():
    with spark.running("local[1]", {"spark.sql.shuffle.partitions": "1"}) as started:
        yield started


def test_a_raw_table_without_a_later_contract_column_reads_it_as_empty(session, tmp_path: Path):
    table = tmp_path / "raw_case_tasks"
    # An earlier load, written before `status` was a contract column; a later one with it.
    old = pl.DataFrame({"task_id": ["t1"], "case_id": ["K1"], "closed_at": [None]})
    new = pl.DataFrame(
        {"task_id": ["t2"], "case_id": ["K2"], "closed_at": [None], "status": ["closed"]}
    )
    for load, frame in ((1, old), (2, new)):
        folder = table / "period=2026-01" / f"load={load}"
        folder.mkdir(parents=True)
        frame.with_columns(pl.col("closed_at").cast(pl.Datetime("us"))).write_parquet(
            folder / "part-0.parquet"
        )
    rows = spark._raw(session, table, "raw_case_tasks").select("task_id", "status", "sla_hours")
    assert sorted(tuple(r) for r in rows.collect()) == [("t1", None, None), ("t2", "closed", None)]
    # Only the old load: the column is there, empty, typed as the contract says.
    (table / "period=2026-01" / "load=2" / "part-0.parquet").unlink()
    only_old = spark._raw(session, table, "raw_case_tasks")
    assert dict(only_old.dtypes)["status"] == "string"
    assert [r["status"] for r in only_old.collect()] == [None]
