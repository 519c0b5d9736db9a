"""The warehouse opens in an analyst's own DuckDB client: the duckdb CLI, read-only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

DUCKDB_CLI = Path(sys.executable).with_name("duckdb")


def duckdb_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(DUCKDB_CLI), *args], capture_output=True, text=True, timeout=120)


def test_an_older_duckdb_cli_opens_the_warehouse_read_only(sample_db, sample_con):
    # An older client than the one cxkpi writes with: the file's storage format is for it.
    assert duckdb_cli("-version").stdout.startswith("v1.")
    for query in (
        "SELECT department_id, verdict FROM department_value ORDER BY 1",
        "SELECT count(*) FROM stg_interactions",  # a view over a raw table
    ):
        result = duckdb_cli("-readonly", "-csv", "-noheader", str(sample_db), "-c", query)
        assert result.returncode == 0, result.stderr
        expected = [",".join(map(str, row)) for row in sample_con.sql(query).fetchall()]
        assert result.stdout.splitlines() == expected
