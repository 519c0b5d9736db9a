"""Great Expectations on Spark DataFrames: the same suites find the same failures as on pandas.

This is the validation step of `cxkpi load --engine spark` (docs/scale-out.md); it is checked
here against the pandas path that `cxkpi load` uses, on rows that break every kind of rule.
tests/spark/test_spark_load.py compares whole loads of every source on both engines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from etl.contract.sources import SOURCES
from etl.loading.expectations import validate, validate_spark
from etl.loading.read import ROW, parse, read_text_frame
from etl.scaleout import spark

pytestmark = pytest.mark.spark

DEPARTMENTS = frozenset({"BIL", "SAL"})
#: Rows that break each kind of row rule, per source (the first data row of each is valid).
BROKEN = {
    "interactions": (
        "interaction_id,started_at,department_id,handle_seconds,channel,wait_seconds\n"
        "I1,2026-01-05T10:00:00,BIL,300,phone,10\n"
        "I2,2026-01-05T11:00:00,XXX,300,phone,10\n"  # known_department
        "I3,2026-01-05T12:00:00,BIL,0,phone,10\n"  # range (strict minimum)
        "I4,2026-01-05T13:00:00,BIL,300,pigeon,-1\n"  # allowed_values, range
        "I5,,BIL,300,phone,10\n"  # not_null
    ),
    "workforce": (
        "work_date,agent_id,department_id,logged_in_minutes,scheduled_minutes,"
        "handling_minutes,adherent_minutes\n"
        "2026-01-05,A1,BIL,480,480,300,470\n"
        "2026-01-05,A2,BIL,480,480,500,470\n"  # not_above (handling > logged in)
        "2026-01-05,A3,BIL,480,400,300,450\n"  # not_above (adherent > scheduled)
        "2026-01-05,A4,SAL,-1,480,,\n"  # range
    ),
    "nps_responses": (
        "response_id,responded_at,department_id,score,csat,effort\n"
        "R1,2026-01-05T10:00:00,BIL,9,5,2\n"
        "R2,2026-01-05T10:00:00,BIL,11,0,8\n"  # range x3
        "R3,2026-01-05T10:00:00,BIL,,,\n"  # at_least_one_of
    ),
    "case_tasks": (
        "task_id,case_id,department_id,opened_at,closed_at,status\n"
        "T1,K1,BIL,2026-01-05T10:00:00,,closed\n"
        "T2,K2,BIL,2026-01-05T10:00:00,2026-01-06T10:00:00,open\n"  # empty_when
        "T3,K3,BIL,2026-01-05T10:00:00,,shelved\n"  # allowed_values
    ),
}


@pytest.fixture(scope="module")
def session():
    with spark.running("local[1]", {"spark.sql.shuffle.partitions": "1"}) as started:
        yield started


def _both(session, source_name: str, path: Path, departments, folder: Path):
    """Failures found by the pandas path and by the Spark path for one file's typed rows."""
    source = SOURCES[source_name]
    typed = parse(path, source, read_text_frame(path)).typed
    typed.write_parquet(folder / f"{source_name}.parquet")  # Spark reads what Polars typed
    frame = session.read.parquet(str(folder / f"{source_name}.parquet"))
    order = [ROW, "rule", "column"]
    return (
        validate(source, typed, departments).sort(order),
        validate_spark(source, frame, departments).sort(order),
    )


def test_rows_breaking_every_kind_of_rule_fail_the_same_way_on_spark(session, tmp_path):
    rules = set()
    for name, text in BROKEN.items():
        path = tmp_path / name / "2026-01.csv"
        path.parent.mkdir()
        path.write_text(text)
        on_pandas, on_spark = _both(session, name, path, DEPARTMENTS, tmp_path)
        assert on_spark.equals(on_pandas), (name, on_pandas, on_spark)
        assert ROW in on_spark.columns and 1 not in on_spark[ROW].to_list()  # row 1 is valid
        rules |= set(on_spark["rule"])
    kinds = {"not_null", "range", "allowed_values", "known_department", "not_above"}
    assert rules >= kinds | {"at_least_one_of", "empty_when"}


def test_python_dash_c_survives_importing_great_expectations_beside_pyspark():
    # pyspark exits a process whose main module has no file (python -c, pytest-xdist workers)
    # when Great Expectations imports it; etl.loading.expectations gives the main module a file
    # meanwhile.
    import subprocess
    import sys

    code = (
        "from etl.contract.sources import SOURCES; from etl.loading.expectations import rules_for;"
        " print(len(rules_for(SOURCES['interactions'], frozenset({'BIL'}))), 'rules')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip().endswith("rules"), run.stdout + run.stderr
