"""The Parquet lake without Spark: export, its layout, and the refusals before Spark starts."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from etl.contract.sources import SOURCES
from etl.errors import CxkpiError
from etl.scaleout import lake
from etl.scaleout.spark import spark_models
from etl.warehouse.models import run_tests
from etl.warehouse.publish import writing
from tests.conftest import invoke_cxkpi


@pytest.fixture(scope="module")
def exported(sample_db: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("lake")
    result = invoke_cxkpi("--db", str(sample_db), "lake", "export", str(folder))
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
    # replaces a folder (etl/scaleout/spark_load.py).
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
    result = invoke_cxkpi("--db", str(sample_db), "lake", "export", str(exported))
    assert result.returncode == 0, result.stderr
    assert sorted(p.relative_to(exported) for p in exported.rglob("*.parquet")) == before


def test_a_lake_without_its_load_runs_is_refused_before_spark_starts(exported, tmp_path):
    """A missing raw table is a source never loaded (built empty); missing load runs would
    read as no live loads, so that lake is refused."""
    partial = tmp_path / "lake"
    shutil.copytree(exported, partial)
    shutil.rmtree(partial / "meta" / "meta_load_runs")
    result = invoke_cxkpi(
        "--db", str(tmp_path / "x.duckdb"), "build", "--engine", "spark", "--lake", str(partial)
    )
    assert result.returncode == 1
    assert "tables missing from the lake (meta_load_runs)" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "x.duckdb").exists()


def test_spark_options_need_the_spark_engine_and_a_lake(sample_copy, tmp_path):
    without = invoke_cxkpi("--db", str(sample_copy), "build", "--lake", str(tmp_path))
    assert without.returncode != 0 and "--engine spark" in without.stderr
    no_lake = invoke_cxkpi("--db", str(sample_copy), "build", "--engine", "spark")
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


def _load_dirs(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("load=*") if p.is_dir()}


def test_tidy_keeps_live_loads_and_removes_what_the_load_runs_do_not_vouch_for(
    exported, sample_con, tmp_path
):
    folder = tmp_path / "lake"
    shutil.copytree(exported, folder)
    before = _load_dirs(folder)
    assert lake.tidy(folder) == [] and _load_dirs(folder) == before  # an export is all live
    interactions = lake.table_dir(folder, "raw", "raw_interactions")
    month = sorted(interactions.glob("period=*"))[0]
    live = sorted(month.glob("load=*"))[0]
    # A load stopped before its commit left folders under a load id never recorded ...
    stopped = interactions / "period=2031-01" / "load=999"
    shutil.copytree(live, stopped)
    shutil.copytree(live, month / "load=999")
    # ... and a commit stopped between its two renames left only the new meta_load_runs.
    runs = lake.folder_of(folder, "meta_load_runs")
    runs.rename(runs.with_name("meta_load_runs.new"))
    (folder / lake.INCOMING / "batch-999").mkdir(parents=True)

    removed = lake.tidy(folder)

    assert stopped in removed and month / "load=999" in removed
    assert not stopped.parent.exists()  # the month only the stopped load had is gone
    assert runs.is_dir() and not runs.with_name("meta_load_runs.new").exists()
    assert not (folder / lake.INCOMING).exists()
    assert _load_dirs(folder) == before
    # A load replaced since (superseded in the load runs) leaves the raw layer.
    replaced = int(live.name.removeprefix("load="))
    with lake.read_runs(folder) as books:
        books.execute(
            "UPDATE meta_load_runs SET superseded_by = 1000 WHERE load_id = $id", {"id": replaced}
        )
        lake.replace(books, "meta_load_runs", folder)
    lake.tidy(folder)
    assert not any(
        p.endswith(f"load={replaced}") and p.startswith("raw/") for p in _load_dirs(folder)
    )
    kept = duckdb.sql(f"SELECT count(*) FROM {lake.duckdb_source(interactions)}").fetchall()[0][0]
    wanted = sample_con.sql(
        "SELECT count(*) FROM raw_interactions WHERE _load_id <> $id", params={"id": replaced}
    ).fetchall()[0][0]
    assert kept == wanted


def test_a_new_lake_gets_every_table_empty_and_passes_the_check(tmp_path):
    folder = tmp_path / "lake"
    created = lake.create_missing(folder)
    assert sorted(created) == sorted(lake.lake_tables())
    lake.check(folder)
    assert lake.tidy(folder) == []  # the empty placeholders are no load's
    for table in lake.lake_tables():
        source = lake.duckdb_source(lake.folder_of(folder, table))
        assert duckdb.sql(f"SELECT count(*) FROM {source}").fetchall()[0][0] == 0
    assert lake.create_missing(folder) == []


def test_load_on_spark_refuses_profiles_and_needs_a_lake(sample_dir, tmp_path):
    files = str(sample_dir / "departments")
    no_lake = invoke_cxkpi("--db", str(tmp_path / "x.duckdb"), "load", "--engine", "spark", files)
    assert no_lake.returncode != 0 and "needs --lake" in no_lake.stderr
    profile = invoke_cxkpi(
        "--db", str(tmp_path / "x.duckdb"), "load", "--engine", "spark", "--lake",
        str(tmp_path / "lake"), "--profile", "technion_bank", files,
    )  # fmt: skip
    assert profile.returncode != 0 and "--profile goes with the DuckDB engine" in profile.stderr
    stray = invoke_cxkpi("--db", str(tmp_path / "x.duckdb"), "load", "--lake", "l", files)
    assert stray.returncode != 0 and "go with --engine spark" in stray.stderr
    assert not (tmp_path / "lake").exists() and not (tmp_path / "x.duckdb").exists()


def test_a_second_spark_command_waits_while_the_lake_is_held(exported, tmp_path):
    import subprocess

    from tests.conftest import CXKPI

    with lake.writing(exported):
        waiting = subprocess.Popen(
            [CXKPI, "--quiet", "--db", str(tmp_path / "x.duckdb"), "build", "--engine", "spark",
             "--lake", str(exported)],
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            first = waiting.stderr.readline()
            assert waiting.poll() is None  # still waiting for the lake
        finally:
            waiting.kill()
            waiting.wait()
    assert first.strip() == f"{exported}: another Spark load or build holds the lake; waiting"
    assert not (tmp_path / "x.duckdb").exists()
