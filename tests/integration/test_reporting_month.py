"""The reporting month: a trailing month of stragglers is in progress, never the headline, and
`cxkpi snapshot` refuses it in the words the dashboard's definition gives (month_completeness)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from etl.errors import CxkpiError
from etl.reporting.snapshot import take
from etl.warehouse.models import run_tests
from tests.conftest import STRAGGLING_ANSWERS, STRAGGLING_CONTACTS

OCTOBER, NOVEMBER = date(2026, 10, 1), date(2026, 11, 1)


@pytest.fixture
def con(straggler_db: Path):
    con = duckdb.connect(str(straggler_db), read_only=True)
    yield con
    con.close()


def test_the_month_of_stragglers_is_in_progress_and_the_one_before_reports(con):
    rows = con.execute(
        "SELECT month, is_complete, is_reporting_month, is_in_progress, in_progress"
        " FROM month_completeness WHERE month >= $m ORDER BY month",
        {"m": OCTOBER},
    ).fetchall()
    typical = con.execute(
        "SELECT typical_rows FROM int_source_months WHERE source = 'interactions' AND month = $m",
        {"m": NOVEMBER},
    ).fetchone()[0]
    assert 25_000 < typical < 40_000  # the median of the sample's months, about 31,000 a month
    assert rows == [
        (OCTOBER, True, True, False, None),
        (
            NOVEMBER,
            False,
            False,
            True,
            f"Nov 2026 in progress: {STRAGGLING_CONTACTS} contacts so far against about"
            f" {typical:,} in a typical month, the last on 03 Nov 2026",
        ),
    ]
    default = con.execute(
        "SELECT value FROM filter_values WHERE filter = 'month' AND is_default"
    ).fetchall()
    assert default == [("2026-10",)]
    assert run_tests(con) == []


def test_complete_sources_are_up_to_date_and_the_stragglers_in_progress(con):
    status = dict(con.execute("SELECT source, status FROM source_freshness").fetchall())
    assert status["case_tasks"] == "up to date"
    assert status["workforce"] == "up to date"
    assert status["interactions"].startswith(
        f"up to date; Nov 2026 in progress: {STRAGGLING_CONTACTS} contacts so far against about"
    )
    assert status["nps_responses"].startswith(
        f"up to date; Nov 2026 in progress: {STRAGGLING_ANSWERS} survey answers so far"
    )
    assert status["engagement_responses"].startswith("survey waves")
    assert not [s for s in status.values() if "behind" in s]


def test_the_snapshot_refuses_the_straggler_month_with_the_dashboards_reason(straggler_db, con):
    (reason,) = con.execute(
        "SELECT incomplete_sources FROM month_completeness WHERE month = $m", {"m": NOVEMBER}
    ).fetchone()
    con.close()
    assert reason.startswith("case_tasks (no case tasks yet, the data ends October 2026),")
    with pytest.raises(CxkpiError) as refused:
        take(straggler_db, NOVEMBER, today=date(2027, 1, 15))
    assert str(refused.value) == (
        f"November 2026 is still loading: {reason}; load the rest of the month, then take the"
        " snapshot"
    )


def test_the_complete_last_month_is_still_the_headline(sample_con):
    last = sample_con.execute(
        "SELECT month, is_complete, is_in_progress FROM month_completeness WHERE is_reporting_month"
    ).fetchall()
    assert last == [(OCTOBER, True, False)]
    assert sample_con.execute("SELECT max(month) FROM organisation_month").fetchone() == (OCTOBER,)
    status = dict(sample_con.execute("SELECT source, status FROM source_freshness").fetchall())
    assert {status[s] for s in ("interactions", "case_tasks", "workforce", "nps_responses")} == {
        "up to date"
    }
