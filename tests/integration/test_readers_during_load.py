"""Readers are never locked out while another process loads (docs/architecture.md)."""

from __future__ import annotations

import subprocess
import time

import duckdb
import pytest

from etl.sample.bundled import generate
from tests.conftest import CXKPI

pytestmark = pytest.mark.reliability


def test_queries_succeed_throughout_a_load_in_another_process(tmp_path):
    exports = tmp_path / "exports"
    generate(exports, "150k", seed=99)
    db = tmp_path / "live.duckdb"
    first = subprocess.run(
        [CXKPI, "-q", "--db", str(db), "load", str(exports / "departments")],
        capture_output=True,
        text=True,
    )
    assert first.returncode == 0, first.stderr
    old_rows = 0
    load = subprocess.Popen(
        [CXKPI, "-q", "--db", str(db), "load", str(exports)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen, errors, queries = set(), [], 0
    while load.poll() is None:
        try:
            con = duckdb.connect(str(db), read_only=True)
            raw, marts = con.execute(
                "SELECT (SELECT count(*) FROM raw_interactions),"
                " (SELECT coalesce(sum(aht_seconds_n), 0) FROM department_month)"
            ).fetchone()
            con.close()
            # Raw rows and marts always come from the same published state.
            assert raw == marts, (raw, marts)
            seen.add(raw)
            queries += 1
        except duckdb.Error as error:
            errors.append(str(error))
        time.sleep(0.05)
    out, err = load.communicate()
    assert load.returncode == 0, err
    assert errors == []
    assert queries > 20
    assert old_rows in seen
    con = duckdb.connect(str(db), read_only=True)
    new_rows = con.execute("SELECT count(*) FROM raw_interactions").fetchone()[0]
    con.close()
    assert new_rows != old_rows and seen <= {old_rows, new_rows}
