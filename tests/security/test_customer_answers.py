"""Customers' answers: analysts see each answer without its free text; only data owners see
what customers wrote, in the dashboard's connection and the SQL sandbox alike."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from etl.warehouse.access import ROLES, Visibility
from etl.warehouse.read_only import connect_read_only, cursor
from etl.warehouse.sandbox import Refused, Sandbox


@pytest.fixture(scope="module")
def written(sample_db, tmp_path_factory):
    """The sample warehouse with a comment on every tenth answer, one with contact details."""
    db = tmp_path_factory.mktemp("comments") / "cx.duckdb"
    shutil.copy(sample_db, db)
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE int_nps_responses SET comment = 'Call me on 07700 900123, Ann Smith'"
        " WHERE hash(response_id) % 10 = 0"
    )
    con.close()
    return db


def _comments(db, visibility: Visibility) -> tuple[int, int]:
    con = connect_read_only(db, visibility)
    reader = cursor(con)
    try:
        return reader.sql("SELECT count(*), count(comment) FROM int_nps_responses").fetchall()[0]
    finally:
        reader.close()
        con.close()


def test_only_a_data_owner_reads_what_customers_wrote(written):
    answers, comments = _comments(written, Visibility(None, raw_records=True))
    assert answers > 1000 and comments > 100
    for role in ("board", "executive", "analyst"):
        visibility = Visibility(None, ROLES[role].raw_records)
        assert _comments(written, visibility) == (answers, 0), role
    assert _comments(written, Visibility(("BIL",), False))[1] == 0


def test_the_sandbox_gives_an_analyst_answers_without_comments(written):
    with Sandbox(written, visibility=Visibility(None, raw_records=False)) as box:
        result = box.run(
            "SELECT count(*) AS answers, count(comment) AS written FROM int_nps_responses"
        )
    answers, written = result.frame.row(0)
    assert answers > 1000 and written == 0


def test_the_guards_refusal_says_what_is_true_of_answers(written):
    with Sandbox(written, visibility=Visibility(None, raw_records=False)) as box:
        for view in ("stg_engagement_responses", "raw_nps_responses"):
            with pytest.raises(Refused) as refused:
                box.run(f"SELECT * FROM {view}")
            message = str(refused.value)
            assert "individual employee answers" in message, message
            assert "customers' answers are in int_nps_responses" in message, message
