"""The sample warehouse built by the real CLI: reconciled, tested, documented, with its stories."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb

from etl.contract.metrics import METRICS
from etl.contract.sources import SOURCES
from etl.sample.bundled import PLANTED, generate
from etl.warehouse.catalog import DICTIONARY, columns, dictionary
from etl.warehouse.models import discover, run_tests


def test_every_row_read_is_loaded_or_quarantined(sample_con):
    broken = sample_con.execute(
        "SELECT count(*) FROM load_runs WHERE rows_read <> rows_loaded + rows_quarantined"
    ).fetchone()
    assert broken == (0,)
    for source in SOURCES.values():
        loaded = sample_con.execute(
            "SELECT coalesce(sum(rows_loaded), 0) FROM load_runs"
            " WHERE source = $s AND NOT is_superseded",
            {"s": source.name},
        ).fetchone()[0]
        stored = sample_con.execute(f"SELECT count(*) FROM {source.raw_table}").fetchone()[0]
        assert (source.name, stored) == (source.name, loaded)
        assert stored > 0


def test_every_sample_file_has_one_load_run_and_none_failed(sample_con, sample_dir):
    files = sorted(str(p) for p in sample_dir.rglob("*.csv"))
    runs = sample_con.execute("SELECT file, status FROM load_runs ORDER BY file").fetchall()
    assert [f for f, _ in runs] == files
    assert {s for _, s in runs} == {"loaded"}
    assert sample_con.execute("SELECT count(*) FROM quarantine").fetchone() == (0,)


def test_the_tests_declared_in_model_yaml_pass(sample_con):
    assert run_tests(sample_con) == []


def test_every_model_column_is_documented_and_the_docs_list_no_ghosts(sample_con):
    models = discover()
    # Snapshot tables appear with the first `cxkpi snapshot`: test_snapshot.py checks them.
    for model in (m for m in models.values() if m.materialized != "snapshot"):
        actual = [
            r[0]
            for r in sample_con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = $t",
                {"t": model.name},
            ).fetchall()
        ]
        assert set(columns(model, models)) == set(actual), model.name


def test_data_dictionary_is_current():
    assert DICTIONARY.read_text() == dictionary(), "run: python -m etl.warehouse.catalog"


def test_department_month_carries_every_metric_with_its_n_and_note(sample_con):
    names = {
        r[0]
        for r in sample_con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'department_month'"
        ).fetchall()
    }
    for metric in METRICS:
        assert {metric, f"{metric}_n", f"{metric}_note"} <= names
    assert {"nps_ci_low", "nps_ci_high", "department_id", "month"} <= names


def test_the_tiny_department_never_shows_an_nps(sample_con):
    rows = sample_con.execute(
        "SELECT count(*), count(nps), min(nps_n), max(nps_n), count(nps_note) FROM department_month"
        " WHERE department_id = $d",
        {"d": PLANTED["tiny_department"]},
    ).fetchone()
    months, shown, low, high, notes = rows
    assert (months, shown, notes) == (24, 0, 24) and 0 <= low < high < 30


def test_engagement_is_never_shown_for_groups_under_five(sample_con):
    leaked = sample_con.execute(
        "SELECT count(*) FROM metric_month WHERE family = 'empowerment' AND n < 5"
        " AND value IS NOT NULL"
    ).fetchone()
    suppressed = sample_con.execute(
        "SELECT count(*) FROM metric_month WHERE family = 'empowerment' AND n BETWEEN 1 AND 4"
    ).fetchone()
    assert leaked == (0,) and suppressed[0] > 0


def test_the_planted_conflict_is_in_the_data(sample_con):
    first, last = sample_con.execute(
        "SELECT arg_min(struct_pack(aht_seconds, fcr_rate, nps, contacts_per_hour), month),"
        " arg_max(struct_pack(aht_seconds, fcr_rate, nps, contacts_per_hour), month)"
        " FROM department_month WHERE department_id = $d",
        {"d": PLANTED["conflict_department"]},
    ).fetchone()
    assert last["aht_seconds"] < 0.7 * first["aht_seconds"]
    assert last["contacts_per_hour"] > 1.2 * first["contacts_per_hour"]
    assert last["fcr_rate"] < first["fcr_rate"] - 0.15
    assert last["nps"] < first["nps"] - 20


def test_the_watermelon_meets_its_own_sla_while_its_cases_break_promises(sample_con):
    sla, target = sample_con.execute(
        "SELECT avg(task_sla_met_rate), any_value(t.target) FROM department_month m"
        " JOIN stg_kpi_targets t ON t.department_id = m.department_id"
        " AND t.metric = 'task_sla_met_rate' WHERE m.department_id = $d",
        {"d": PLANTED["watermelon_department"]},
    ).fetchone()
    kept = sample_con.execute(
        "SELECT avg(is_promise_kept::int) FROM int_interactions i JOIN stg_case_tasks t"
        " USING (case_id) WHERE t.department_id = $d",
        {"d": PLANTED["watermelon_department"]},
    ).fetchone()[0]
    assert sla > target and kept < 0.2


def digest(folder: Path) -> str:
    hashes = hashlib.sha256()
    for path in sorted(folder.rglob("*.csv")):
        hashes.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return hashes.hexdigest()


def test_the_sample_is_deterministic(sample_dir, tmp_path):
    generate(tmp_path / "again")
    assert digest(tmp_path / "again") == digest(sample_dir)


def test_build_is_repeatable(sample_copy):
    from etl.warehouse.models import build

    con = duckdb.connect(str(sample_copy))
    before = con.execute("SELECT * FROM department_month ORDER BY ALL").fetchall()
    build(con)
    assert con.execute("SELECT * FROM department_month ORDER BY ALL").fetchall() == before
    con.close()


def test_scale_multiplies_the_volume(tmp_path):
    small = generate(tmp_path / "small", "100k")
    large = generate(tmp_path / "large", "400k")
    assert 3.5 < large["interactions"] / small["interactions"] < 4.5
    assert large["departments"] == small["departments"] == 13
