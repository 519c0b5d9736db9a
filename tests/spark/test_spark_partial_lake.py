"""A lake holding only some sources builds on Spark as DuckDB builds the same files: the
sources never loaded are empty tables, and every mart equals DuckDB's (etl/scaleout/spark.py)."""

from __future__ import annotations

import os
import shutil
import subprocess

import duckdb
import pytest

from etl.sample.bundled import generate
from tests.conftest import CXKPI, run_cxkpi
from tests.spark.test_spark_build import _same

pytestmark = pytest.mark.spark

#: The sources loaded; the lake has no folder at all for the others.
LOADED = ("interactions", "departments")


def test_a_lake_of_some_sources_builds_on_spark_as_on_duckdb(tmp_path):
    generate(tmp_path / "all", "50k", months=12)
    exports = tmp_path / "exports"
    for source in LOADED:
        shutil.copytree(tmp_path / "all" / source, exports / source)
    duck, published, lake = tmp_path / "duck.duckdb", tmp_path / "spark.duckdb", tmp_path / "lake"
    loaded = run_cxkpi("--quiet", "--db", str(duck), "load", str(exports))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    exported = run_cxkpi("--db", str(duck), "lake", "export", str(lake))
    assert exported.returncode == 0, exported.stderr
    absent = ("raw_nps_responses", "raw_engagement_responses", "raw_case_tasks", "raw_workforce")
    for table in absent:  # as a platform's jobs that write only what they have
        shutil.rmtree(lake / "raw" / table)
    result = subprocess.run(
        [
            CXKPI, "--quiet", "--db", str(published), "build", "--engine", "spark",
            "--lake", str(lake), "--master", "local[2]",
            "--conf", "spark.sql.shuffle.partitions=2",
        ],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYSPARK_PYTHON": "/nonexistent/python"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    con = duckdb.connect(str(published), read_only=True)
    try:
        con.execute(f"ATTACH '{duck}' AS duck (READ_ONLY)")
        tables = [
            r[0]
            for r in con.sql(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'duck'"
                " AND NOT starts_with(table_name, 'raw_') ORDER BY 1"
            ).fetchall()
        ]
        assert len(tables) > 20
        for table in tables:
            _same(con, table)
        assert con.sql("SELECT count(*) FROM int_nps_responses").fetchall()[0][0] == 0
        assert con.sql("SELECT count(*) FROM int_interactions").fetchall()[0][0] > 0
        for table in absent:  # empty, with the columns and types of DuckDB's empty table
            spark, wanted = con.sql(f"DESCRIBE main.{table}"), con.sql(f"DESCRIBE duck.{table}")
            assert [c[:2] for c in spark.fetchall()] == [c[:2] for c in wanted.fetchall()]
            assert con.sql(f"SELECT count(*) FROM main.{table}").fetchall()[0][0] == 0
    finally:
        con.close()
