"""The same models on Apache Spark (local mode) give the same answers as on DuckDB.

Marked `spark`: the default run skips it (pyspark is an optional extra and a Spark session
takes seconds to start); CI installs `.[spark]` and runs `pytest -m spark` (.ci/run).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import data
from etl.errors import CxkpiError
from etl.sample.bundled import generate
from tests.app.test_pages import PAGES, open_app, texts
from tests.conftest import CXKPI, run_cxkpi

pytestmark = pytest.mark.spark

#: Interactions per year: small enough for local Spark in CI, large enough that every
#: department has 24 months, kpi_conflicts has flagged pairs and every verdict appears.
SCALE = "50k"
#: The three tables the issue names, then every other table a DuckDB build writes.
CONTRACT_TABLES = ("department_month", "kpi_conflicts", "department_value")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """One sample loaded by DuckDB, its raw layer exported to a lake, and built on Spark."""
    root = tmp_path_factory.mktemp("spark")
    generate(root / "exports", SCALE)
    paths = {"duckdb": root / "duckdb.duckdb", "spark": root / "spark.duckdb"}
    paths["lake"] = root / "lake"
    loaded = run_cxkpi("--quiet", "--db", str(paths["duckdb"]), "load", str(root / "exports"))
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    exported = run_cxkpi("--db", str(paths["duckdb"]), "lake", "export", str(paths["lake"]))
    assert exported.returncode == 0, exported.stderr
    # No Python for the executors: cxkpi's Spark build runs only Spark SQL on them, so a
    # cluster's executors need no Python of the driver's version (a Python task would fail).
    result = subprocess.run(
        [
            CXKPI, "--quiet", "--db", str(paths["spark"]), "build", "--engine", "spark",
            "--lake", str(paths["lake"]), "--master", "local[2]",
            "--conf", "spark.sql.shuffle.partitions=2",  # small data: fewer, fuller tasks
        ],
        capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYSPARK_PYTHON": "/nonexistent/python"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Spark built" in result.stdout + result.stderr
    return paths


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in one order whatever engine wrote them (floats rounded for the order only)."""
    keys = [pl.col(c).round(6) if t.is_float() else pl.col(c) for c, t in frame.schema.items()]
    return frame.sort(keys, nulls_last=True)


def _same(con, table: str) -> int:
    spark, duck = con.sql(f"FROM main.{table}").pl(), con.sql(f"FROM duck.{table}").pl()
    assert spark.schema == duck.schema, table
    assert_frame_equal(_rows(spark), _rows(duck), check_exact=False, rel_tol=1e-9, abs_tol=1e-9)
    return duck.height


@pytest.fixture(scope="module")
def both(built):
    con = duckdb.connect(str(built["spark"]), read_only=True)
    con.execute(f"ATTACH '{built['duckdb']}' AS duck (READ_ONLY)")
    yield con
    con.close()


@pytest.mark.parametrize("table", CONTRACT_TABLES)
def test_spark_build_equals_the_duckdb_build_row_for_row(both, table):
    assert _same(both, table) > 0
    if table == "kpi_conflicts":
        assert both.sql("SELECT count(*) FROM kpi_conflicts WHERE flagged").fetchall()[0][0] > 0


def test_every_table_of_the_build_agrees(both):
    tables = [
        r[0]
        for r in both.sql(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'duck'"
            " AND NOT starts_with(table_name, 'raw_') ORDER BY 1"
        ).fetchall()
    ]
    assert len(tables) > 20
    for table in tables:
        _same(both, table)


def test_the_lake_is_hive_partitioned_parquet_that_duckdb_reads_as_it_is(built, both):
    lake = built["lake"]
    months = sorted(p.name for p in (lake / "raw" / "raw_interactions").iterdir())
    assert len(months) == 24 and months[0].startswith("period=20")
    assert (lake / "marts" / "department_month" / months[-1]).is_dir()
    direct = both.sql(
        f"SELECT count(*) FROM read_parquet('{lake}/raw/raw_interactions/*/*/*.parquet')"
    ).fetchall()[0][0]
    loaded = both.sql("SELECT count(*) FROM duck.raw_interactions").fetchall()[0][0]
    assert direct == loaded > 0
    # The published file reads the raw layer from the lake rather than holding a copy.
    kinds = dict(
        both.sql(
            "SELECT view_name, 'view' FROM duckdb_views() WHERE database_name = 'spark'"
            " UNION ALL SELECT table_name, 'table' FROM duckdb_tables()"
            " WHERE database_name = 'spark'"
        ).fetchall()
    )
    assert kinds["raw_interactions"] == "view" and kinds["department_month"] == "table"
    assert both.sql("SELECT lake FROM meta_lake").fetchall()[0][0] == str(lake.resolve())


def test_a_published_file_refuses_a_duckdb_load_build_or_export(built, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(built["spark"], db)
    folder = tmp_path / "departments"
    folder.mkdir()
    (folder / "departments.csv").write_text("department_id,name,function\nX,X,front_office\n")
    for args in (["load", str(folder)], ["build"], ["lake", "export", str(tmp_path / "again")]):
        result = run_cxkpi("--db", str(db), *args)
        assert result.returncode != 0
        assert "published from the lake" in result.stderr and "Traceback" not in result.stderr


def test_the_dashboard_runs_on_the_spark_built_file_unchanged(built, monkeypatch):
    try:
        for page, title in PAGES.items():
            app = open_app(built["spark"], monkeypatch, page)
            assert not app.exception, (page, app.exception)
            assert title in texts(app)
    finally:
        data.clear_cache()


@pytest.fixture(scope="module")
def session():
    from etl.scaleout import spark

    with spark.running("local[1]") as started:
        yield started


def test_seed_tables_are_the_code_s_values_as_spark_sql_literals(session):
    from etl.contract.metrics import metric_rows
    from etl.scaleout import spark

    spark._seed(session)
    seeded = [tuple(row) for row in session.table("metric_definitions").collect()]
    assert seeded == metric_rows()
    awkward = [("it's", "back\\slash", None, 'say "no"\nthen')]
    columns = [(name, "VARCHAR") for name in ("a", "b", "c", "d")]
    spark._values_view(session, "awkward", columns, awkward)
    assert [tuple(row) for row in session.table("awkward").collect()] == awkward


def test_a_published_wave_keeps_its_counts_on_spark_as_on_duckdb(built, session):
    """int_engagement_counts on Spark, with the published counts handed in as literals (and
    with none: an empty view), equals DuckDB's on the same answers."""
    from etl.scaleout import spark
    from etl.warehouse.models import discover
    from etl.warehouse.publish import PUBLISHED_ENGAGEMENT_COLUMNS, PUBLISHED_ENGAGEMENT_DDL

    model = discover()["int_engagement_counts"]
    with duckdb.connect(str(built["duckdb"]), read_only=True) as sample:
        answers = sample.sql("FROM stg_engagement_responses").pl()
        first = sample.execute("SELECT min(month) FROM stg_engagement_responses").fetchall()[0][0]
        counts = sample.execute(
            "SELECT * EXCLUDE (responses_loaded, is_published, snapshot_id)"
            " FROM int_engagement_counts WHERE month = $m",
            {"m": first},
        ).fetchall()
    # Published with one answer fewer than the warehouse holds now, so the two differ.
    published = [(d, m, n - 1, *rest, "x-v1") for d, m, n, *rest in counts]
    session.createDataFrame(answers.to_pandas()).createOrReplaceTempView("stg_engagement_responses")
    for rows in ([], published):
        spark._values_view(session, "meta_published_engagement", PUBLISHED_ENGAGEMENT_COLUMNS, rows)
        on_spark = pl.from_pandas(session.sql(spark.to_spark(model.sql)).toPandas())
        with duckdb.connect() as con:
            con.register("answers", answers)
            con.execute("CREATE VIEW stg_engagement_responses AS FROM answers")
            con.execute(PUBLISHED_ENGAGEMENT_DDL)
            if rows:
                con.executemany(
                    "INSERT INTO meta_published_engagement VALUES (" + ", ".join("?" * 14) + ")",
                    rows,
                )
            on_duckdb = con.sql(model.sql).pl()
        assert on_spark.filter(pl.col("is_published")).height == len(rows)
        assert_frame_equal(
            _rows(on_spark.cast(on_duckdb.schema)), _rows(on_duckdb), check_dtypes=False
        )


def test_a_model_spark_cannot_run_is_named_in_one_line(built, session, tmp_path):
    from etl.scaleout import spark

    sql_dir, lake = tmp_path / "sql", tmp_path / "lake"
    shutil.copytree(Path(spark.SQL_DIR), sql_dir)
    for layer in ("raw", "meta"):
        shutil.copytree(built["lake"] / layer, lake / layer)
    (sql_dir / "marts" / "zz_broken.sql").write_text("select no_such_function(1) as x\n")
    with pytest.raises(
        CxkpiError, match=r"marts/zz_broken\.sql failed on Spark: .*NO_SUCH_FUNCTION"
    ):
        spark.build(session, lake, sql_dir=sql_dir)


def test_a_query_failing_at_run_time_is_one_line_without_a_java_stack_trace(built, tmp_path):
    """Spark's task failures are logged by several loggers before the driver sees them; the
    user sees cxkpi's line naming the model, not pages of Java."""
    sql_dir, lake = tmp_path / "sql", tmp_path / "lake"
    shutil.copytree(Path(__file__).parents[2] / "sql", sql_dir)
    for layer in ("raw", "meta"):
        shutil.copytree(built["lake"] / layer, lake / layer)
    (sql_dir / "marts" / "zz_boom.sql").write_text("select raise_error('boom') as x\n")
    script = (
        "import sys; from pathlib import Path; from etl.scaleout import spark\n"
        "from etl.errors import CxkpiError\n"
        "with spark.running('local[1]') as s:\n"
        "    try: spark.build(s, Path(sys.argv[1]), sql_dir=Path(sys.argv[2]))\n"
        "    except CxkpiError as e: print(e)\n"
    )
    (tmp_path / "build.py").write_text(script)
    ran = subprocess.run(
        [sys.executable, str(tmp_path / "build.py"), str(lake), str(sql_dir)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip().startswith("sql model marts/zz_boom.sql failed on Spark: ")
    assert "boom" in ran.stdout
    assert "\tat org.apache" not in ran.stderr


def test_publishing_again_keeps_the_board_snapshots_already_frozen(built, tmp_path):
    from etl.scaleout import lake
    from etl.warehouse.publish import writing

    db = tmp_path / "snap.duckdb"
    shutil.copyfile(built["spark"], db)
    frozen = run_cxkpi("-q", "--db", str(db), "snapshot", "--month", "2026-10")
    assert frozen.returncode == 0, frozen.stderr
    with writing(db) as con:
        lake.publish(con, built["lake"], list(lake.tables(built["lake"], "marts")), db)
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.sql("SELECT snapshot_id FROM board_snapshots").fetchall() == [("2026-10-v1",)]
        kept = con.sql("SELECT count(*) FROM snapshot_department_month").fetchall()[0][0]
        assert kept == con.sql("SELECT count(*) FROM department_month").fetchall()[0][0] > 0
    finally:
        con.close()
