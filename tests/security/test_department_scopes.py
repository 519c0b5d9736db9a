"""Department scopes: from what a scoped reader sees, no figure of a single department outside
their scope can be computed, by subtraction from the organisation's totals, from a comparison
with one other department, or from a snapshot's list of changes."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from etl.reporting.snapshot import BOARD_SNAPSHOTS_DDL
from etl.warehouse.access import Visibility
from etl.warehouse.read_only import connect_read_only, cursor

OUTSIDER = "BIL"


@pytest.fixture(scope="module")
def departments(sample_db: Path) -> list[str]:
    con = duckdb.connect(str(sample_db), read_only=True)
    try:
        return [d for (d,) in con.sql("SELECT department_id FROM stg_departments").fetchall()]
    finally:
        con.close()


def _reader(db: Path, scope: tuple[str, ...]):
    con = connect_read_only(db, Visibility(scope, raw_records=False))
    return con, cursor(con)


def _cells_with_one_outsider(db: Path, scope: tuple[str, ...]) -> set[tuple]:
    """(channel, month, metric) cells in which one department outside the scope has data."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        listed = ", ".join(f"'{d}'" for d in scope)
        rows = con.sql(
            "SELECT channel, month, metric FROM metric_channel_month"
            f" WHERE department_id <> 'ALL' AND n > 0 AND department_id NOT IN ({listed})"
            " AND family <> 'empowerment' GROUP BY ALL HAVING count(*) = 1"
        ).fetchall()
        return set(rows)
    finally:
        con.close()


def test_all_but_one_department_cannot_subtract_the_last_from_the_totals(sample_db, departments):
    scope = tuple(d for d in departments if d != OUTSIDER)
    truth = duckdb.connect(str(sample_db), read_only=True)
    present = set(
        truth.sql(
            "SELECT channel, month, metric FROM metric_channel_month"
            f" WHERE department_id = '{OUTSIDER}' AND n > 0 AND family <> 'empowerment'"
        ).fetchall()
    )
    # Employee figures: the departments a reader cannot see in each cell (outside or withheld).
    unseen = {
        (month, metric): (departments, answers)
        for month, metric, departments, answers in truth.sql(
            "SELECT month, metric, count(*), sum(n) FROM metric_month WHERE family = 'empowerment'"
            f" AND department_id <> 'ALL' AND n > 0 AND (department_id = '{OUTSIDER}'"
            " OR value IS NULL) GROUP BY ALL"
        ).fetchall()
    }
    billing_nps = dict(
        truth.sql(
            "SELECT month, value FROM metric_month WHERE metric = 'nps'"
            f" AND department_id = '{OUTSIDER}' AND value IS NOT NULL"
        ).fetchall()
    )
    truth.close()
    assert len(billing_nps) > 12, "the sample's Billing has NPS months to protect"
    con, reader = _reader(sample_db, scope)
    try:
        # The attack: the organisation's NPS times its answers, less every department shown.
        sums = reader.sql(
            "SELECT a.month, a.value, a.n, sum(d.value * d.n), sum(d.n)"
            " FROM metric_month a JOIN metric_month d ON d.department_id <> 'ALL'"
            " AND d.month = a.month AND d.metric = a.metric AND d.value IS NOT NULL"
            " WHERE a.department_id = 'ALL' AND a.metric = 'nps' AND a.value IS NOT NULL"
            " GROUP BY ALL"
        ).fetchall()
        solved = [
            month
            for month, value, n, weighted, answers in sums
            if n - answers > 0
            and abs((value * n - weighted) / (n - answers) - billing_nps.get(month, 1e9)) < 1e-6
        ]  # fmt: skip
        assert solved == []
        shown = reader.sql(
            "SELECT channel, month, metric FROM metric_channel_month WHERE department_id = 'ALL'"
            " AND (value IS NOT NULL OR n IS NOT NULL)"
        ).fetchall()
        assert [c for c in shown if c in present] == []
        survey = reader.sql(
            "SELECT month, metric FROM metric_month WHERE department_id = 'ALL'"
            " AND family = 'empowerment' AND value IS NOT NULL"
        ).fetchall()
        assert len(survey) > 10
        seen_through = [c for c in survey if c in unseen and (unseen[c][0] < 2 or unseen[c][1] < 5)]
        assert seen_through == []
        wide = reader.sql(
            "SELECT month FROM organisation_month WHERE nps IS NOT NULL OR nps_n IS NOT NULL"
        ).fetchall()
        assert [m for (m,) in wide if m in billing_nps] == []
        for view in ("kpi_conflicts", "ex_cx_linkage", "int_linkage_outcome_month", "findings"):
            rows = reader.sql(
                f"SELECT count(*) FROM {view} WHERE department_id IN ('ALL', '*')"
            ).fetchall()[0][0]
            assert rows == 0, view
    finally:
        reader.close()
        con.close()


def test_a_total_with_a_single_outside_department_in_it_is_withheld(sample_db):
    scope = (OUTSIDER,)
    lone = _cells_with_one_outsider(sample_db, scope)
    assert lone, "the sample has cells (a channel only one other department serves)"
    con, reader = _reader(sample_db, scope)
    try:
        for view, channel in (("metric_channel_month", "channel"), ("kpi_headlines", "channel")):
            rows = reader.sql(
                f"SELECT {channel}, month, metric, value, n FROM {view}"
                " WHERE department_id = 'ALL' AND (value IS NOT NULL OR n IS NOT NULL)"
                + (" AND NOT is_all_channels" if view == "kpi_headlines" else "")
            ).fetchall()
            seen = [r for r in rows if tuple(r[:3]) in lone]
            assert seen == [], (view, seen[:3])
        # The totals a single reader cannot see through stay: this is not a blanket refusal.
        kept = reader.sql(
            "SELECT count(*) FROM metric_month WHERE department_id = 'ALL' AND value IS NOT NULL"
        ).fetchall()[0][0]
        assert kept > 100
        assert (
            reader.sql("SELECT count(*) FROM kpi_conflicts WHERE department_id = 'ALL'").fetchall()[
                0
            ][0]
            > 0
        )
    finally:
        reader.close()
        con.close()


def test_a_comparison_with_a_single_outside_department_is_withheld(sample_db):
    truth = duckdb.connect(str(sample_db), read_only=True)
    references = dict(truth.sql("SELECT department_id, reference_ids FROM department_value")
                      .fetchall())  # fmt: skip
    comparisons = truth.sql(
        "SELECT initiative_id, department_id, comparison_ids FROM initiative_effects"
        " WHERE comparison_departments > 0"
    ).fetchall()
    truth.close()
    department, others = next((d, r) for d, r in references.items() if r and len(r) >= 2)
    scope = (department, *others[1:])  # every unit it is set against but one
    con, reader = _reader(sample_db, scope)
    try:
        row = reader.sql(
            "SELECT nps_gap, hours_added, reference_ids, explanation FROM department_value"
            " WHERE department_id = $d",
            params={"d": department},
        ).fetchall()[0]
        assert row[:3] == (None, None, None)
        assert "withheld" in row[3]
        finding = reader.sql(
            "SELECT strength, explanation FROM findings WHERE department_id = $d"
            " AND kind IN ('watermelon', 'destroys_value')",
            params={"d": department},
        ).fetchall()
        assert all(s is None and "withheld" in e for s, e in finding)
    finally:
        reader.close()
        con.close()
    initiative, owner, ids = comparisons[0]
    con, reader = _reader(sample_db, (owner, *ids[1:]))
    try:
        lift = reader.sql(
            "SELECT lift_1_month, lift_3_6_months, comparison_ids FROM initiative_effects"
            " WHERE initiative_id = $i",
            params={"i": initiative},
        ).fetchall()[0]
        assert lift == (None, None, None)
    finally:
        reader.close()
        con.close()
    con, reader = _reader(sample_db, (owner,))  # several outside: the lift is shown
    try:
        (lift,) = reader.sql(
            "SELECT lift_3_6_months FROM initiative_effects WHERE initiative_id = $i",
            params={"i": initiative},
        ).fetchall()[0]
        assert lift is not None
    finally:
        reader.close()
        con.close()


def test_a_snapshots_changes_name_no_department_outside_the_scope(sample_db, tmp_path):
    db = tmp_path / "cx.duckdb"
    shutil.copy(sample_db, db)
    con = duckdb.connect(str(db))
    con.execute(BOARD_SNAPSHOTS_DDL)
    changes = "\n".join(
        [
            "against version 1:",
            "file replaced: interactions/2026-10.csv (100 rows then, 120 now)",
            "NPS: +20 then, +22 now",
            "new flag: In Claims Processing, handle time fell 20% while NPS fell 9 points.",
            "Claims Processing: verdict neutral then, watermelon now",
        ]
    )
    con.execute(
        "INSERT INTO board_snapshots VALUES ('2026-10-v2', '2026-10-01', 2, now(), 'a', 'p',"
        " 'h', 's', 1, 'f', '[]', NULL, NULL, $c)",
        {"c": changes},
    )
    con.close()
    connection, reader = _reader(db, (OUTSIDER,))
    try:
        (shown,) = reader.sql(
            "SELECT changes FROM board_snapshots WHERE snapshot_id = '2026-10-v2'"
        ).fetchall()[0]
    finally:
        reader.close()
        connection.close()
    assert "Claims" not in shown and "NPS" not in shown
    assert "file replaced: interactions/2026-10.csv" in shown


def test_the_all_channel_total_cannot_give_back_a_withheld_channel(sample_db):
    """ALL over all channels less the other channels shown would be the one withheld."""
    scope = (OUTSIDER,)
    lone = _cells_with_one_outsider(sample_db, scope)
    months = {(month, metric) for channel, month, metric in lone if channel != "all"}
    con, reader = _reader(sample_db, scope)
    try:
        shown = reader.sql(
            "SELECT month, metric FROM metric_channel_month WHERE department_id = 'ALL'"
            " AND channel <> 'all' AND value IS NOT NULL"
        ).fetchall()
        assert [c for c in shown if c in months] == []
        details = reader.sql("SELECT detail FROM filter_values WHERE filter = 'channel'").fetchall()
        assert details and all(d is None for (d,) in details)  # the organisation's contacts
    finally:
        reader.close()
        con.close()


def test_rows_of_the_scope_carry_no_outside_departments_work(sample_db):
    """A case opened in the scope and handled by a back office outside it is that office's."""
    con, reader = _reader(sample_db, ("RET", "SAL"))
    try:
        handlers = reader.sql(
            "SELECT DISTINCT h FROM (SELECT unnest([first_handler_id, second_handler_id]) AS h"
            " FROM int_department_value_cells) WHERE h IS NOT NULL"
        ).fetchall()
        assert {h for (h,) in handlers} <= {"RET", "SAL"}
        assert reader.sql("SELECT count(*) FROM int_department_value_cells").fetchall()[0][0] > 0
    finally:
        reader.close()
        con.close()


def test_organisation_rows_are_judged_per_metric_and_month(sample_db, departments):
    """Two departments outside, but one of them has no data in a metric or a wave."""
    truth = duckdb.connect(str(sample_db), read_only=True)
    survey_only = truth.sql(
        "SELECT department_id FROM metric_month WHERE department_id <> 'ALL' GROUP BY 1"
        " HAVING sum(n) FILTER (WHERE metric = 'nps') = 0"
    ).fetchall()
    truth.close()
    assert survey_only, "the sample has units customers never rate"
    quiet = survey_only[0][0]
    scope = tuple(d for d in departments if d not in (OUTSIDER, quiet))
    con, reader = _reader(sample_db, scope)
    try:
        for view in ("kpi_conflicts", "int_linkage_outcome_month", "findings"):
            rows = reader.sql(
                f"SELECT count(*) FROM {view} WHERE department_id IN ('ALL', '*')"
                + (
                    " AND 'nps' IN (productivity_metric, outcome_metric)"
                    if view != "int_linkage_outcome_month"
                    else ""
                )
            ).fetchall()[0][0]
            assert rows == 0, view
    finally:
        reader.close()
        con.close()


def test_withholding_a_total_keeps_one_row_per_cell(sample_db):
    """A tile whose month, month before and year before are all withheld is one row still."""
    con, reader = _reader(sample_db, (OUTSIDER,))
    try:
        for view, key in (
            ("kpi_headlines", "department_id, channel, month, metric"),
            ("metric_channel_month", "department_id, channel, month, metric"),
            ("metric_month", "department_id, month, metric"),
        ):
            rows, cells = reader.sql(
                f"SELECT count(*), count(DISTINCT ({key})) FROM {view}"
            ).fetchall()[0]
            assert rows == cells, view
    finally:
        reader.close()
        con.close()


#: Marts that add labels to, or unpivot, a guarded view: (mart, its source, the rows compared
#: as columns of the mart, the same from the source).
DERIVED = (
    (
        "kpi_conflict_pairs",
        "kpi_conflicts",
        "department_id, productivity_metric, outcome_metric, explanation, drivers, shows_through",
        "department_id, productivity_metric, outcome_metric, explanation, drivers, shows_through",
    ),
    (
        "metric_series",
        "metric_month",
        "department_id, month, metric, value, n, ci_low, ci_high, note",
        "department_id, month, metric, value, n, ci_low, ci_high, note",
    ),
    (
        "initiative_results",
        "initiative_effects",
        "initiative_id, lift_1_month, lift_3_6_months, comparison_ids, explanation",
        "initiative_id, lift_1_month, lift_3_6_months, comparison_ids, explanation",
    ),
    (
        "department_nps_month",
        "department_month",
        "department_id, department_name, month, answers, nps, nps_ci_low, nps_ci_high, nps_note",
        "department_id, department_name, month, coalesce(nps_n, 0), nps, nps_ci_low,"
        " nps_ci_high, nps_note",
    ),
    (
        "departments",
        "stg_departments",
        "department_id, department_name, department_function",
        "department_id, department_name, department_function",
    ),
    (
        "initiative_lifts",
        "initiative_effects",
        "initiative_id, stage, lift, low, high, comparison_ids",
        "initiative_id, 'after 1 month', lift_1_month, lift_1_month_ci_low,"
        " lift_1_month_ci_high, comparison_ids FROM {source} UNION ALL SELECT initiative_id,"
        " 'after 3-6 months', lift_3_6_months, lift_3_6_months_ci_low, lift_3_6_months_ci_high,"
        " comparison_ids",
    ),
)


@pytest.mark.parametrize("scope", ["one", "all_but_one", "all_but_two"])
@pytest.mark.parametrize(("mart", "source", "shown", "from_source"), DERIVED)
def test_a_mart_built_on_a_guarded_view_shows_a_scoped_reader_no_more_than_it(
    sample_db, departments, scope, mart, source, shown, from_source
):
    """The dashboard reads these marts where it once joined the views itself: a reader limited
    to departments sees in them what the view gives them, withheld figures withheld."""
    outside = {"one": set(departments) - {OUTSIDER}, "all_but_one": {OUTSIDER}}.get(scope)
    if outside is None:  # two outside, one of them never rated by customers (see above)
        truth = duckdb.connect(str(sample_db), read_only=True)
        [(quiet,)] = truth.sql(
            "SELECT department_id FROM metric_month WHERE department_id <> 'ALL' GROUP BY 1"
            " HAVING sum(n) FILTER (WHERE metric = 'nps') = 0 ORDER BY 1 LIMIT 1"
        ).fetchall()
        truth.close()
        outside = {OUTSIDER, quiet}
    seen = tuple(d for d in departments if d not in outside)
    con, reader = _reader(sample_db, seen)
    try:
        derived = reader.sql(f"SELECT {shown} FROM {mart}").fetchall()
        direct = reader.sql(f"SELECT {from_source.format(source=source)} FROM {source}").fetchall()
    finally:
        reader.close()
        con.close()
    assert derived, (mart, "the sample gives a scoped reader rows to compare")
    assert sorted(derived, key=repr) == sorted(direct, key=repr)
