"""The survey answers behind each department's NPS, in documented views: department_nps_month
and departments, and the workbench's example that ranks departments by detractors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from etl.warehouse.sandbox import Sandbox, examples


@pytest.fixture(scope="module")
def con(sample_db: Path):
    con = duckdb.connect(str(sample_db), read_only=True)
    yield con
    con.close()


def test_promoters_passives_and_detractors_are_the_departments_scored_answers(con):
    counted = con.sql(
        "SELECT coalesce(r.department_id, c.department_id) AS department, r.month,"
        " count(*) FILTER (WHERE score >= 9), count(*) FILTER (WHERE score IN (7, 8)),"
        " count(*) FILTER (WHERE score <= 6)"
        " FROM stg_nps_responses r LEFT JOIN int_cases c USING (case_id)"
        " WHERE score IS NOT NULL AND department IN (SELECT department_id FROM stg_departments)"
        " GROUP BY ALL"
    ).fetchall()
    shown = con.sql(
        "SELECT department_id, month, promoters, passives, detractors FROM department_nps_month"
        " WHERE answers > 0"
    ).fetchall()
    assert len(shown) > 100
    assert sorted(shown) == sorted(counted)
    # Every department-month of department_month, with its NPS as that view has it.
    differs = con.sql(
        "SELECT count(*) FROM department_month d FULL JOIN department_nps_month n"
        " USING (department_id, month) WHERE n.month IS NULL OR d.month IS NULL"
        " OR n.answers <> coalesce(d.nps_n, 0) OR n.nps IS DISTINCT FROM d.nps"
        " OR n.nps_note IS DISTINCT FROM d.nps_note"
        " OR n.department_name IS DISTINCT FROM d.department_name"
    ).fetchall()[0][0]
    assert differs == 0


def test_departments_names_every_department(con):
    assert (
        con.sql("SELECT * FROM departments ORDER BY 1").fetchall()
        == con.sql(
            "SELECT department_id, department_name, department_function, headcount"
            " FROM stg_departments ORDER BY 1"
        ).fetchall()
    )


def test_the_example_ranks_departments_by_detractors_in_the_last_complete_quarter(sample_db, con):
    [example] = [e for e in examples() if e.name == "7_top_departments_by_detractors"]
    # The same question asked of the survey answers themselves.
    [(last,)] = con.sql(
        "SELECT max(month) FROM int_nps_responses WHERE score IS NOT NULL"
        " AND department_id IS NOT NULL"
    ).fetchall()
    quarter = con.sql(
        "SELECT date_trunc('quarter', $last::DATE + INTERVAL 1 MONTH) - INTERVAL 3 MONTH",
        params={"last": last},
    ).fetchall()[0][0]
    truth = con.sql(
        "SELECT d.department_name, count(*) FILTER (WHERE score <= 6) AS detractors, count(*)"
        " FROM int_nps_responses r JOIN stg_departments d USING (department_id)"
        " WHERE score IS NOT NULL AND month >= $q AND month < $q + INTERVAL 3 MONTH"
        " GROUP BY 1 ORDER BY 2 DESC LIMIT 10",
        params={"q": quarter},
    ).fetchall()
    with Sandbox(sample_db) as box:
        frame = box.run(example.sql).frame
    assert frame.height == len(truth) > 3
    assert frame.select("department_name", "detractors", "answers").rows() == truth
    small = frame.filter(frame["answers"] < 30)
    assert small["nps"].is_null().all()
    assert all(n.startswith("too little data: n = ") for n in small["nps_note"])
    assert frame.filter(frame["answers"] >= 30)["nps"].is_not_null().all()
