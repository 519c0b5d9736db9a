"""`cxkpi build` runs the tests the models' YAML declares, and publishes nothing on a failure."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
from click.testing import CliRunner

from etl.cli import cli
from etl.errors import CxkpiError
from etl.warehouse import models


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failing_model_test_stops_the_build_and_nothing_is_published(
    sample_copy, tmp_path, monkeypatch
):
    sql = tmp_path / "sql"
    shutil.copytree(models.SQL_DIR, sql)
    spec = sql / "marts" / "department_month.yml"
    # A rule the sample breaks: a department-month with fewer than 10^9 handled contacts.
    spec.write_text(
        spec.read_text().replace(
            "tests:\n",
            'tests:\n  - expression: "aht_seconds_n is null or aht_seconds_n > 1e9"\n',
            1,
        )
    )
    assert spec.read_text().count("aht_seconds_n > 1e9") == 1
    before = _sha(sample_copy)
    monkeypatch.setattr(models, "SQL_DIR", sql)
    result = CliRunner().invoke(cli, ["--quiet", "--db", str(sample_copy), "build"])
    assert isinstance(result.exception, CxkpiError), result.output
    message = str(result.exception)
    assert message.startswith(f"{sample_copy}: the built models fail 1 of the models' tests")
    assert "so nothing was published: department_month:" in message
    assert _sha(sample_copy) == before


def test_a_passing_build_says_its_tests_passed(sample_copy):
    result = CliRunner().invoke(cli, ["--quiet", "--db", str(sample_copy), "build"])
    assert result.exit_code == 0, result.output
    assert "models and passed their tests" in result.output
    with duckdb.connect(str(sample_copy), read_only=True) as con:
        assert models.run_tests(con) == []


def test_a_test_whose_own_query_breaks_on_the_data_is_a_failure_not_a_crash(sample_db, tmp_path):
    """A scalar subquery in a rule meets a key twice: reported beside the other failures."""
    sql = tmp_path / "sql"
    shutil.copytree(models.SQL_DIR, sql)
    spec = sql / "marts" / "department_month.yml"
    spec.write_text(
        spec.read_text().replace(
            "tests:\n",
            'tests:\n  - expression: "(select department_id from department_month) is not null"\n',
            1,
        )
    )
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        failures = models.run_tests(con, sql)
    finally:
        con.close()
    assert len(failures) == 1 and failures[0].startswith("department_month: ")
    assert "could not run: " in failures[0] and "More than one row" in failures[0]
