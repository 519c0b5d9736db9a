"""Loading: every row loaded or quarantined, reloads change nothing, corrections replace."""

from __future__ import annotations

import json

import duckdb
import pytest

from etl.loading import load as loading
from etl.loading.load import collect, load_file
from etl.warehouse.publish import writing
from tests.conftest import write

HEADER = "interaction_id,started_at,department_id,handle_seconds,channel,customer_id"
GOOD = f"{HEADER}\nA,2026-01-05T09:00:00,FL,300,phone,C1\nB,2026-01-05T10:00:00,FL,200,chat,C2\n"


def load_all(db, *paths, source=None):
    """Load paths the way `cxkpi load --no-build` does; the per-file results."""
    with writing(db) as con:
        return [load_file(con, p, s) for p, s in collect(paths, source)]


def query(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def quarantined(db):
    return query(db, 'SELECT row_number, "column", rule FROM meta_quarantine ORDER BY 1, 2')


def test_good_file_loads_every_row_with_its_lineage(tmp_path, inbox):
    write(inbox, "interactions", GOOD)
    db = tmp_path / "w.duckdb"
    results = load_all(db, inbox)
    assert [(r.source, r.status, r.rows_read, r.rows_loaded) for r in results] == [
        ("departments", "loaded", 2, 2),
        ("interactions", "loaded", 2, 2),
    ]
    assert query(
        db, "SELECT interaction_id, _file, _row_number FROM raw_interactions ORDER BY 1"
    ) == [
        ("A", "interactions/2026-01.csv", 1),
        ("B", "interactions/2026-01.csv", 2),
    ]


@pytest.mark.parametrize(
    ("row", "column", "rule"),
    [
        ("X,2026-01-05T09:00:00,FL,0,phone,C9", "handle_seconds", "range"),
        ("X,2026-01-05T09:00:00,FL,-5,phone,C9", "handle_seconds", "range"),
        ("X,2026-01-05T09:00:00,ZZ,60,phone,C9", "department_id", "known_department"),
        ("X,2026-01-05T09:00:00,FL,60,fax,C9", "channel", "allowed_values"),
        ("X,not-a-time,FL,60,phone,C9", "started_at", "type:timestamp"),
        ("X,2026-01-05T09:00:00,,60,phone,C9", "department_id", "not_null"),
        ("A,2026-01-05T09:00:00,FL,60,phone,C9", "interaction_id", "unique"),
    ],
    ids=["zero", "negative", "unknown-dept", "channel", "timestamp", "missing", "duplicate"],
)
def test_bad_rows_are_quarantined_with_row_column_and_rule(tmp_path, inbox, row, column, rule):
    write(inbox, "interactions", GOOD + row + "\n")
    db = tmp_path / "w.duckdb"
    result = load_all(db, inbox)[1]
    assert result.status == "quarantined"
    assert result.rows_read == result.rows_loaded + result.rows_quarantined
    bad_rows = {r[0] for r in quarantined(db)}
    assert bad_rows == ({1, 3} if rule == "unique" else {3})
    assert (3, column, rule) in quarantined(db)
    raw = json.loads(query(db, "SELECT raw_record FROM meta_quarantine WHERE row_number = 3")[0][0])
    assert raw["interaction_id"] == row.split(",")[0]


def test_score_out_of_range_and_no_answer_at_all_are_quarantined(tmp_path, inbox):
    text = (
        "response_id,responded_at,score,csat\n"
        "R1,2026-01-05T09:00:00,9,5\nR2,2026-01-05T09:00:00,11,\nR3,2026-01-05T09:00:00,,\n"
    )
    write(inbox, "nps_responses", text)
    db = tmp_path / "w.duckdb"
    load_all(db, inbox)
    assert quarantined(db) == [
        (2, "score", "range"),
        (3, "score, recommend, csat, effort", "at_least_one_of"),
    ]


def test_handling_minutes_above_logged_in_is_quarantined(tmp_path, inbox):
    text = (
        "work_date,agent_id,department_id,logged_in_minutes,handling_minutes\n"
        "2026-01-05,a1,FL,400,300\n2026-01-05,a2,FL,400,401\n"
    )
    write(inbox, "workforce", text)
    db = tmp_path / "w.duckdb"
    load_all(db, inbox)
    assert quarantined(db) == [(2, "handling_minutes", "not_above")]


def test_loading_the_same_file_again_changes_nothing(tmp_path, inbox):
    write(inbox, "interactions", GOOD + "X,2026-01-05T09:00:00,ZZ,60,phone,C9\n")
    db = tmp_path / "w.duckdb"
    load_all(db, inbox)
    tables = "SELECT * FROM {} ORDER BY ALL"
    before = {
        t: query(db, tables.format(t))
        for t in ("raw_interactions", "meta_quarantine", "meta_load_runs", "raw_departments")
    }
    again = load_all(db, inbox)
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert {t: query(db, tables.format(t)) for t in before} == before


def test_a_corrected_file_replaces_its_earlier_rows(tmp_path, inbox):
    path = write(inbox, "interactions", GOOD + "C,2026-01-05T11:00:00,ZZ,60,phone,C3\n")
    db = tmp_path / "w.duckdb"
    load_all(db, inbox)
    path.write_text(GOOD.replace(",300,", ",310,") + "C,2026-01-05T11:00:00,BO,60,phone,C3\n")
    result = load_all(db, path)[0]
    assert (result.status, result.rows_loaded) == ("loaded", 3)
    assert "replaces the earlier load" in result.message
    assert query(db, "SELECT interaction_id, handle_seconds FROM raw_interactions ORDER BY 1") == [
        ("A", 310),
        ("B", 200),
        ("C", 60),
    ]
    assert query(
        db,
        "SELECT status, rows_quarantined, superseded_by FROM meta_load_runs"
        " WHERE source = 'interactions' ORDER BY load_id",
    ) == [
        ("quarantined", 1, 3),
        ("loaded", 0, None),
    ]


def test_ids_already_loaded_from_another_file_are_quarantined(tmp_path, inbox):
    write(inbox, "interactions", GOOD)
    db = tmp_path / "w.duckdb"
    load_all(db, inbox)
    other = write(
        inbox,
        "interactions",
        f"{HEADER}\nB,2026-02-01T09:00:00,FL,60,phone,C2\nD,2026-02-01T09:00:00,FL,60,phone,C4\n",
        "2026-02.csv",
    )
    result = load_all(db, other)[0]
    assert (result.rows_loaded, result.rows_quarantined) == (1, 1)
    assert query(db, "SELECT row_number, rule, message FROM meta_quarantine") == [
        (1, "unique_across_files", "interaction_id already loaded from interactions/2026-01.csv"),
    ]


def test_identical_content_under_another_name_is_refused(tmp_path, inbox):
    write(inbox, "interactions", GOOD)
    db = tmp_path / "w.duckdb"
    load_all(db, inbox)
    copy = write(tmp_path / "elsewhere", "interactions", GOOD, "copy.csv")
    result = load_all(db, copy)[0]
    assert (
        result.status == "refused"
        and "already loaded as interactions/2026-01.csv" in result.message
    )
    assert query(db, "SELECT count(*) FROM raw_interactions") == [(2,)]


def test_refused_file_is_recorded_and_nothing_is_loaded(tmp_path, inbox):
    write(inbox, "interactions", "interaction_id,started_at\nA,2026-01-01\n")
    db = tmp_path / "w.duckdb"
    result = load_all(db, inbox)[1]
    assert result.status == "refused" and "handle_seconds" in result.message
    assert query(
        db,
        "SELECT status, rows_read, rows_loaded FROM meta_load_runs WHERE source = 'interactions'",
    ) == [("refused", 0, 0)]
    assert query(db, "SELECT count(*) FROM raw_interactions") == [(0,)]


def test_engagement_identifiers_never_reach_the_warehouse(tmp_path, inbox):
    text = (
        "response_id,wave,department_id,employee_id,work_email,q_engaged,q_time\n"
        "E1,2026-01-01,FL,98765,bob@corp.example,4,5\nE2,2026-01-01,FL,98766,eve@corp.example,9,3\n"
    )
    write(inbox, "engagement_responses", text)
    db = tmp_path / "w.duckdb"
    result = load_all(db, inbox)[1]
    assert "employee_id, work_email" in result.message
    con = duckdb.connect(str(db), read_only=True)
    dump = str(con.execute("SELECT * FROM raw_engagement_responses").fetchall())
    dump += str(con.execute("SELECT * FROM meta_quarantine").fetchall())
    con.close()
    for secret in ("98765", "98766", "bob@", "eve@"):
        assert secret not in dump
    raw = json.loads(query(db, "SELECT raw_record FROM meta_quarantine")[0][0])
    assert raw["q_engaged"] == raw["q_time"] == "<redacted>"


def test_a_failure_mid_file_leaves_no_partial_rows(tmp_path, inbox, monkeypatch):
    write(inbox, "interactions", GOOD + "X,2026-01-05T09:00:00,ZZ,60,phone,C9\n")
    db = tmp_path / "w.duckdb"
    load_all(db, inbox / "departments")

    def crash(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loading, "insert_quarantine", crash)
    with writing(db) as con:
        with pytest.raises(RuntimeError):
            load_file(con, inbox / "interactions" / "2026-01.csv", None)
        assert con.execute("SELECT count(*) FROM raw_interactions").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM meta_load_runs").fetchone() == (1,)


def test_a_failed_command_publishes_nothing(tmp_path, inbox):
    db = tmp_path / "w.duckdb"
    load_all(db, inbox / "departments")
    before = query(db, "SELECT * FROM meta_load_runs")
    write(inbox, "interactions", GOOD)
    with pytest.raises(KeyboardInterrupt), writing(db) as con:
        load_file(con, inbox / "interactions" / "2026-01.csv", None)
        raise KeyboardInterrupt
    assert query(db, "SELECT * FROM meta_load_runs") == before
    assert not db.with_name(db.name + ".next").exists()


def test_a_file_read_in_several_chunks_still_finds_duplicates_across_chunks(
    tmp_path, inbox, monkeypatch
):
    from etl.loading import read

    monkeypatch.setattr(read, "CHUNK_ROWS", 3)
    rows = [f"I{i},2026-01-05T09:00:00,FL,{60 + i},phone,C{i}" for i in range(10)]
    rows += ["I2,2026-01-06T09:00:00,FL,60,phone,C2", "I11,2026-01-06T09:00:00,FL,0,phone,C1"]
    write(inbox, "interactions", HEADER + "\n" + "\n".join(rows) + "\n")
    db = tmp_path / "w.duckdb"
    result = load_all(db, inbox)[1]
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (12, 9, 3)
    assert quarantined(db) == [
        (3, "interaction_id", "unique"),
        (11, "interaction_id", "unique"),
        (12, "handle_seconds", "range"),
    ]
    record = query(db, "SELECT raw_record FROM meta_quarantine WHERE row_number = 11")[0][0]
    assert json.loads(record)["customer_id"] == "C2"


def test_validation_does_not_fingerprint_each_batch(tmp_path, inbox, monkeypatch):
    """GX's md5 of every pandas batch cost twice the validation itself; cxkpi turns it off."""
    from etl.loading.expectations import _import_gx

    _import_gx()  # the first GX import of a pytest worker must go through cxkpi's guard
    from great_expectations.execution_engine import pandas_execution_engine

    def hashed(_):
        raise AssertionError("GX fingerprinted a batch")

    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", hashed)
    write(inbox, "interactions", GOOD + "X,2026-01-05T09:00:00,ZZ,60,phone,C9\n")
    results = load_all(tmp_path / "w.duckdb", inbox)
    assert [(r.status, r.rows_quarantined) for r in results] == [("loaded", 0), ("quarantined", 1)]
