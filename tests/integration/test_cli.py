"""The cxkpi command as a user runs it: exit codes, summary lines, clear errors, no tracebacks.

Most tests call the entry point in-process (`invoke_cxkpi`); those about the installed command's
process (its exit codes, a port it cannot bind) run it for real (`run_cxkpi`).
"""

from __future__ import annotations

import json

from tests.conftest import invoke_cxkpi, run_cxkpi, write


def test_reloading_the_sample_changes_nothing(sample_copy, sample_dir):
    result = invoke_cxkpi("--quiet", "--db", str(sample_copy), "load", str(sample_dir))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("unchanged" in line for line in lines) == len(list(sample_dir.rglob("*.csv")))


def test_load_with_bad_rows_exits_1_with_a_summary_per_file(tmp_path, inbox):
    write(
        inbox,
        "interactions",
        "interaction_id,started_at,department_id,handle_seconds\n"
        "A,2026-01-05T09:00:00,FL,60\nB,2026-01-05T09:00:00,XX,60\n",
    )
    result = run_cxkpi("--quiet", "--db", str(tmp_path / "w.duckdb"), "load", str(inbox))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        "interactions/2026-01.csv: quarantined (2 read, 1 loaded, 1 quarantined)" in result.stdout
    )
    assert "row 2, column department_id" in result.stdout


def test_refused_files_exit_1_naming_the_file_and_problem(tmp_path, inbox):
    (inbox / "interactions").mkdir()
    (inbox / "interactions" / "empty.csv").write_text("")
    result = invoke_cxkpi("--quiet", "--db", str(tmp_path / "w.duckdb"), "load", str(inbox))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "empty.csv: refused: file is empty" in result.stdout


def test_usage_errors_exit_2(tmp_path):
    assert run_cxkpi("--db", str(tmp_path / "w.duckdb"), "load").returncode == 2
    missing = invoke_cxkpi("--db", str(tmp_path / "w.duckdb"), "load", str(tmp_path / "nothing"))
    assert missing.returncode == 2 and "nothing: no such file or folder" in missing.stderr
    (tmp_path / "blank").mkdir()
    blank = invoke_cxkpi("--db", str(tmp_path / "w.duckdb"), "load", str(tmp_path / "blank"))
    assert blank.returncode == 2 and "no .csv or .parquet files" in blank.stderr
    assert (
        invoke_cxkpi(
            "--db", str(tmp_path / "w.duckdb"), "load", "--source", "x", "f.csv"
        ).returncode
        == 2
    )


def test_validate_reports_problems_and_writes_nothing(tmp_path, inbox):
    write(inbox, "nps_responses", "response_id,responded_at,score\nR1,2026-01-05,11\n")
    db = tmp_path / "w.duckdb"
    result = invoke_cxkpi("--db", str(db), "validate", str(inbox))
    assert result.returncode == 1
    assert "row 1, column score: score must be >= 0 and <= 10 (range)" in result.stdout
    assert not db.exists()


def test_sql_prints_csv_and_json_from_views(sample_db):
    query = "SELECT department_id, count(*) AS months FROM department_month GROUP BY 1 ORDER BY 1"
    csv = invoke_cxkpi("--db", str(sample_db), "sql", query, "--format", "csv")
    assert csv.returncode == 0 and csv.stdout.splitlines()[1] == "ACC,24"
    data = json.loads(
        invoke_cxkpi("--db", str(sample_db), "sql", "-", "--format", "json", input=query).stdout
    )
    assert data[0] == {"department_id": "ACC", "months": 24}


def test_sql_refuses_attacks_in_one_line_with_exit_1(sample_db):
    """The CLI goes through the same guard as the workbench (tests/integration/test_sandbox.py)."""
    for statement, words in (
        ("CREATE TABLE x AS SELECT 1", "CREATE statements are not allowed"),
        ("DELETE FROM raw_departments", "DELETE statements are not allowed"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() is not allowed"),
        ("COPY department_month TO '/tmp/x.csv'", "COPY statements are not allowed"),
        ("SELECT * FROM stg_engagement_responses", "is not an analyst view"),
    ):
        result = invoke_cxkpi("--db", str(sample_db), "sql", statement)
        assert result.returncode == 1, statement
        assert result.stderr.startswith(f"error: {words}") or words in result.stderr, statement
        assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


def test_sql_stops_a_runaway_query_at_its_time_limit(sample_db):
    query = "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b"
    result = invoke_cxkpi("--db", str(sample_db), "sql", query, "--timeout", "1")
    assert result.returncode == 1
    assert "ran longer than the 1 s limit and was stopped" in result.stderr


def test_sql_caps_rows_and_says_so(sample_db):
    table = invoke_cxkpi(
        "--db", str(sample_db), "sql", "SELECT * FROM range(50)", "--max-rows", "7"
    )
    assert table.returncode == 0 and "7 row(s)" in table.stdout and "first 7 shown" in table.stdout
    csv = invoke_cxkpi(
        "--db",
        str(sample_db),
        "sql",
        "-",
        "--format",
        "csv",
        "--max-rows",
        "7",
        input="SELECT range AS i FROM range(50)",
    )
    assert csv.stdout.splitlines() == ["i", *map(str, range(7))]
    assert "only the first 7 rows" in csv.stderr


def test_build_without_a_database_says_what_to_do(tmp_path):
    result = invoke_cxkpi("--db", str(tmp_path / "none.duckdb"), "build")
    assert result.returncode == 1 and "run `cxkpi load` first" in result.stderr


def test_serve_refuses_a_busy_port_with_a_clear_message(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cxkpi("--db", str(tmp_path / "w.duckdb"), "serve", "--port", str(port))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert f"cannot serve on 127.0.0.1:{port}: Address already in use; try --port" in result.stderr
