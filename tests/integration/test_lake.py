"""The Parquet lake without Spark: export, its layout, and the refusals before Spark starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from etl import lake
from etl.contract import SOURCES
from etl.errors import CxkpiError
from etl.models import run_tests
from etl.spark import spark_models
from etl.warehouse import writing
from tests.conftest import run_cxkpi


@pytest.fixture(scope="module")
def exported(sample_db: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lake")
    result = run_cxkpi("--db", str(sample_db), "lake", "export", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


def test_export_writes_every_raw_and_meta_table_split_by_month(exported, sample_con):
    for source in SOURCES.values():
        folder = exported / "raw" / source.raw_table
        read = duckdb.sql(f"SELECT count(*) FROM {lake.duckdb_source(folder)}").fetchall()[0][0]
        kept = sample_con.sql(f"SELECT count(*) FROM {source.raw_table}").fetchall()[0][0]
        assert read == kept, source.raw_table
    months = sorted(p.name for p in (exported / "raw" / "raw_interactions").iterdir())
    assert len(months) == 24 and all(m.startswith("period=") for m in months)
    # Within a month, rows sit under the load of the file they came from: a file loaded again
    # replaces a folder (etl/spark_load.py).
    loads = {
        int(p.name.removeprefix("load="))
        for p in (exported / "raw" / "raw_interactions").glob("period=*/load=*")
    }
    live = sample_con.sql("SELECT DISTINCT _load_id FROM raw_interactions").fetchall()
    assert loads == {r[0] for r in live} and len(loads) > 1
    # Small tables are split by load only, and the partition keys are not columns on reading.
    assert [p.name for p in (exported / "raw" / "raw_departments").iterdir()] == ["load=1"]
    assert lake.partition_keys(exported / "raw" / "raw_interactions") == ["period", "load"]
    columns = duckdb.sql(
        f"DESCRIBE FROM {lake.duckdb_source(exported / 'raw' / 'raw_interactions')}"
    ).fetchall()
    wanted = sample_con.sql("DESCRIBE raw_interactions").fetchall()
    assert [c[:2] for c in columns] == [c[:2] for c in wanted]
    assert (exported / "meta" / "meta_load_runs" / "part-0.parquet").is_file()


def test_export_again_replaces_the_tables_rather_than_adding_files(exported, sample_db):
    before = sorted(p.relative_to(exported) for p in exported.rglob("*.parquet"))
    result = run_cxkpi("--db", str(sample_db), "lake", "export", str(exported))
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(exported) for p in exported.rglob("*.parquet")) == before


def test_a_lake_without_a_table_is_refused_before_spark_starts(exported, tmp_path):
    partial = tmp_path / "lake"
    shutil.copytree(exported, partial)
    shutil.rmtree(partial / "raw" / "raw_workforce")
    result = run_cxkpi(
        "--db", str(tmp_path / "x.duckdb"), "build", "--engine", "spark", "--lake", str(partial)
    )
    assert result.returncode == 1
    assert "tables missing from the lake (raw_workforce)" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.duckdb").exists()


def test_spark_options_need_the_spark_engine_and_a_lake(sample_copy, tmp_path):
    without = run_cxkpi("--db", str(sample_copy), "build", "--lake", str(tmp_path))
    assert without.returncode != 0 and "--engine spark" in without.stderr
    no_lake = run_cxkpi("--db", str(sample_copy), "build", "--engine", "spark")
    assert no_lake.returncode != 0 and "needs --lake" in no_lake.stderr


def test_publishing_over_a_warehouse_loaded_by_duckdb_is_refused(exported, sample_copy):
    con = duckdb.connect(str(sample_copy))
    try:
        with pytest.raises(CxkpiError, match="holds rows loaded by DuckDB"):
            lake.publish(con, exported, [], sample_copy)
        assert con.sql("SELECT count(*) FROM raw_interactions").fetchall()[0][0] > 0
    finally:
        con.close()


@pytest.fixture
def duckdb_marts(sample_db: Path, exported: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """A lake whose marts DuckDB wrote where Spark writes them: the sample's raw layer, and the
    tables `build --engine spark` builds, copied from the sample's DuckDB build."""
    folder = tmp_path / "lake"
    shutil.copytree(exported, folder)
    names = [model.name for model in spark_models()]
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        for name in names:
            target = lake.table_dir(folder, "marts", name)
            target.mkdir(parents=True)
            con.execute(f"COPY (FROM {name}) TO '{target / 'part-0.parquet'}' (FORMAT parquet)")
    finally:
        con.close()
    return folder, names


def test_publish_runs_the_models_tests_and_a_failing_mart_publishes_nothing(
    duckdb_marts, sample_con, tmp_path
):
    folder, names = duckdb_marts
    db = tmp_path / "published.duckdb"
    with writing(db) as con:
        lake.publish(con, folder, names, db)
    published = duckdb.connect(str(db), read_only=True)
    try:
        assert run_tests(published) == []
        counts = "SELECT count(*), sum(aht_seconds_n) FROM department_month"
        assert published.sql(counts).fetchall() == sample_con.sql(counts).fetchall()
        before = published.sql("SELECT published_at FROM meta_lake").fetchall()
    finally:
        published.close()

    # A job that ran twice and appended: every department-month is there twice.
    marts = lake.table_dir(folder, "marts", "department_month")
    shutil.copyfile(marts / "part-0.parquet", marts / "part-1.parquet")
    with pytest.raises(CxkpiError) as refused, writing(db) as con:
        lake.publish(con, folder, names, db)
    message = str(refused.value)
    assert "nothing was published" in message
    assert "department_month: unique" in message
    published = duckdb.connect(str(db), read_only=True)
    try:
        assert published.sql(counts).fetchall() == sample_con.sql(counts).fetchall()
        assert published.sql("SELECT published_at FROM meta_lake").fetchall() == before
    finally:
        published.close()
