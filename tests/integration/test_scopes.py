"""Department scopes hold where data is read: the dashboard's connection and the SQL sandbox."""

from __future__ import annotations

from datetime import date

import pytest

from etl.warehouse.access import HIDDEN, HIDDEN_PREFIXES, ORGANISATION_VIEWS, Visibility
from etl.warehouse.read_only import connect_read_only, cursor
from etl.warehouse.sandbox import Refused, Sandbox

BILLING = Visibility(("BIL",), raw_records=False)
SEEN = {"BIL", "ALL", "*"}
#: Views a reader limited to departments does not get at all, and why.
WITHHELD = {"snapshot_packs": "a pack holds every department", "quarantine": "rows of any"}


def relations(con) -> dict[str, list[str]]:
    columns: dict[str, list[str]] = {}
    for name, column in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_catalog = current_database() ORDER BY table_name, ordinal_position"
    ).fetchall():
        columns.setdefault(name, []).append(column)
    return columns


def test_every_view_of_the_warehouse_is_scoped_or_known_to_be_organisation_wide(sample_db):
    """A new view with department rows under another column name fails here, not in a leak."""
    con = connect_read_only(sample_db)
    try:
        views = relations(cursor(con))
    finally:
        con.close()
    shown = {
        n: c for n, c in views.items() if n not in HIDDEN and not n.startswith(HIDDEN_PREFIXES)
    }
    assert len(shown) > 30
    unclassified = [
        name
        for name, columns in shown.items()
        if BILLING.expose(name, columns) is None and name not in WITHHELD
    ]
    assert unclassified == []
    for name in ORGANISATION_VIEWS & shown.keys():
        assert not any("department" in c for c in shown[name]), name


def test_a_scoped_connection_holds_only_its_departments_and_totals(sample_db):
    con = connect_read_only(sample_db, BILLING)
    reader = cursor(con)
    try:
        views = relations(reader)
        assert not any(n.startswith(("raw_", "meta_")) for n in views)
        assert WITHHELD.keys().isdisjoint(views)
        checked = 0
        for name, columns in views.items():
            for column in (c for c in columns if c.endswith("department_id")):
                if column != "department_id" and "department_id" in columns:
                    continue  # transfers and peers: the row is still this department's
                found = {v for (v,) in reader.sql(f'SELECT DISTINCT "{column}" FROM "{name}"')
                         .fetchall()} - {None}  # fmt: skip
                assert found <= SEEN, (name, column, found - SEEN)
                checked += bool(found)
        assert checked >= 15
        months = reader.sql("SELECT count(*) FROM department_month").fetchall()[0][0]
        assert months > 0
        departments = reader.sql(
            "SELECT value FROM filter_values WHERE filter = 'department'"
        ).fetchall()
        assert departments == [("BIL",)]
        assert reader.sql("SELECT count(*) FROM organisation_month").fetchall()[0][0] > 0
        totals = reader.sql("SELECT count(*) FROM kpi_headlines WHERE department_id = 'ALL'")
        assert totals.fetchall()[0][0] > 0
    finally:
        reader.close()
        con.close()


def test_organisation_sentences_name_no_department_to_a_reader_limited_to_another(sample_db):
    """The organisation's rows are everyone's, but which departments made its moves is not."""
    sales = Visibility(("SAL",), raw_records=False)
    with Sandbox(sample_db, visibility=sales) as box:
        rows = box.run(
            "SELECT explanation, drivers, shows_through, productivity_driver_id,"
            " outcome_driver_share FROM kpi_conflicts WHERE department_id = 'ALL' AND flagged"
        ).frame
        findings = box.run("SELECT explanation, drivers FROM findings").frame
    assert rows.height > 0
    for column in ("drivers", "shows_through", "productivity_driver_id", "outcome_driver_share"):
        assert rows[column].null_count() == rows.height
    sentences = rows["explanation"].to_list() + findings["explanation"].to_list()
    assert not any("Billing" in s for s in sentences)
    assert all(s.startswith("Across the organisation") for s in rows["explanation"])
    assert all(s.endswith(".") and ": " not in s for s in rows["explanation"])
    with Sandbox(sample_db, visibility=BILLING) as box:
        own = box.run("SELECT explanation FROM kpi_conflicts WHERE department_id = 'BIL'").frame
    assert any("Billing" in s for s in own["explanation"])


def test_the_sql_sandbox_of_a_scoped_reader_finds_no_other_department(sample_db):
    with Sandbox(sample_db, visibility=BILLING) as box:
        assert "quarantine" not in box.views and "department_month" in box.views
        found = box.run("SELECT DISTINCT department_id FROM department_month").frame
        assert found["department_id"].to_list() == ["BIL"]
        joined = box.run(
            "SELECT count(*) AS n FROM kpi_conflicts c JOIN department_value v"
            " USING (department_id) WHERE department_id <> 'BIL'"
        ).frame
        assert joined["n"].to_list() == [0]
        data, rows, _ = box.download(
            "SELECT * FROM metric_month WHERE department_id = 'SAL'", "csv"
        )
        assert rows == 0 and data.count(b"\n") == 1
        for query in (
            "SELECT * FROM cxkpi_warehouse.main.department_month",
            "SELECT * FROM cxkpi_warehouse.department_month",
            "SELECT * FROM query_table('cxkpi_warehouse.main.department_month')",
        ):
            with pytest.raises(Refused):
                box.run(query)
    with Sandbox(sample_db) as box:  # the terminal's `cxkpi sql`: every department
        everyone = box.run("SELECT count(DISTINCT department_id) AS n FROM department_month")
        assert everyone.frame["n"].to_list() == [13]


@pytest.mark.parametrize(("raw", "sees"), [(True, True), (False, False)])
def test_raw_records_only_for_data_owners(quarantined_db, raw, sees):
    visibility = Visibility(None, raw_records=raw)
    con = connect_read_only(quarantined_db, visibility)
    try:
        rows = cursor(con).sql("SELECT rule, raw_record FROM quarantine").fetchall()
    finally:
        con.close()
    assert [r[0] for r in rows] == ["range"]
    assert ("C-SECRET" in str(rows[0][1])) is sees
    with Sandbox(quarantined_db, visibility=visibility) as box:
        sent = box.run("SELECT raw_record FROM quarantine").frame["raw_record"].to_list()
        assert ("C-SECRET" in str(sent)) is sees


def test_a_scoped_reader_of_department_value_sees_its_row_and_no_other_departments_figures(
    sample_db,
):
    everyone = connect_read_only(sample_db)
    try:
        others = (
            cursor(everyone)
            .sql(
                "SELECT nps_touched, nps_touched_n, promise_kept_held, promises_held"
                " FROM department_value WHERE department_id <> 'BIL'"
            )
            .fetchall()
        )
    finally:
        everyone.close()
    con = connect_read_only(sample_db, BILLING)
    try:
        reader = cursor(con)
        columns = [r[0] for r in reader.sql("DESCRIBE department_value").fetchall()]
        rows = reader.sql("SELECT * FROM department_value").fetchall()
    finally:
        con.close()
    assert len(rows) == 1 and rows[0][columns.index("department_id")] == "BIL"
    assert not any("peer" in c for c in columns)
    figures = {v for row in others for v in row if v not in (None, 0)}
    mine = dict(zip(columns, rows[0], strict=True))
    leaked = {c: v for c, v in mine.items() if c not in ("cases_held",) and v in figures}
    assert leaked == {}
    assert mine["reference_units"] >= 2 and "other front-line units'" in mine["explanation"]


def test_a_back_office_driver_shows_only_where_both_back_offices_are_the_readers(sample_db):
    """A hand-off to one back office rather than another weighs both departments' work."""
    con = connect_read_only(sample_db)
    offices = con.execute(
        "SELECT substr(driver, 16), compared_with FROM nps_drivers"
        " WHERE driver LIKE 'back_office_id:%' AND department_id = 'ALL' ORDER BY driver"
    ).fetchall()
    con.close()
    assert len(offices) >= 2
    office, usual = offices[0]
    for scope, seen in (((office,), False), ((office, usual), True)):
        with Sandbox(sample_db, visibility=Visibility(scope, raw_records=False)) as box:
            found = (
                box.run(
                    "SELECT DISTINCT driver FROM nps_drivers WHERE driver LIKE 'back_office_id:%'"
                )
                .frame["driver"]
                .to_list()
            )
        assert (f"back_office_id:{office}" in found) is seen, scope
        assert all(f.removeprefix("back_office_id:") in scope for f in found), (scope, found)


#: Claims Processing's failures are taken by Retail Line and Sales in the sample: a reader of
#: Claims and Retail would read Sales' share off Claims' hours caused elsewhere.
CLAIMS_AND_RETAIL = Visibility(("CLM", "RET"), raw_records=False)
_OTHER_ENDS = """
    SELECT l.department_id,
        count(DISTINCT f.department_id) FILTER (WHERE f.cause_department_id = l.department_id
            AND NOT list_contains($scope, f.department_id)) AS handlers,
        count(DISTINCT f.cause_department_id) FILTER (WHERE f.department_id = l.department_id
            AND NOT list_contains($scope, f.cause_department_id)) AS causes
    FROM failure_demand_ledger AS l JOIN int_failure_demand AS f
        ON f.is_failure_demand AND f.cause_department_id <> f.department_id
        AND l.department_id IN (f.department_id, f.cause_department_id)
        AND f.month BETWEEN l.first_month AND l.last_month
    WHERE list_contains($scope, l.department_id) GROUP BY ALL
"""


@pytest.mark.parametrize("visibility", [BILLING, CLAIMS_AND_RETAIL], ids=["BIL", "CLM+RET"])
def test_the_failure_demand_ledger_of_a_scoped_reader_gives_no_outside_department_away(
    sample_db, visibility
):
    """Its departments' rows only, and a side's hours withheld where a single department
    outside the scope is all of that side's other end (its own failure demand, or what it
    took of the scope's)."""
    scope = list(visibility.departments)
    everyone = connect_read_only(sample_db)
    try:
        full = cursor(everyone)
        ends = {r[0]: r[1:] for r in full.execute(_OTHER_ENDS, {"scope": scope}).fetchall()}
        live = {
            r[0]: r[1:]
            for r in full.sql(
                "SELECT department_id, caused_elsewhere_hours, absorbed_hours, net_hours_caused"
                " FROM failure_demand_ledger"
            ).fetchall()
        }
    finally:
        everyone.close()
    con = connect_read_only(sample_db, visibility)
    try:
        seen = cursor(con).sql(
            "SELECT department_id, caused_elsewhere_hours, caused_elsewhere_contacts,"
            " caused_elsewhere_cost, absorbed_hours, absorbed_contacts, absorbed_cost,"
            " net_hours_caused FROM failure_demand_ledger"
        )
        rows = {r[0]: r[1:] for r in seen.fetchall()}
    finally:
        con.close()
    assert set(rows) == set(scope)
    withheld = 0
    for department, (hours, contacts, cost, a_hours, a_contacts, a_cost, net) in rows.items():
        handlers, causes = ends.get(department, (0, 0))
        caused_lone, absorbed_lone = handlers == 1, causes == 1
        assert (hours is None, contacts is None, cost is None) == (caused_lone,) * 3, department
        assert (a_hours is None, a_contacts is None, a_cost is None) == (absorbed_lone,) * 3
        assert (net is None) == (caused_lone or absorbed_lone)
        if not caused_lone:
            assert hours == live[department][0]
        if not absorbed_lone:
            assert a_hours == live[department][1]
        withheld += caused_lone + absorbed_lone
    assert withheld == (1 if visibility == CLAIMS_AND_RETAIL else 0)


def _evidence(db, visibility: Visibility):
    con = connect_read_only(db, visibility)
    try:
        return cursor(con).sql("SELECT * FROM theme_evidence").pl()
    finally:
        con.close()


def test_a_reader_limited_to_one_department_reads_no_other_departments_comments(sample_db):
    """The customers' words beside a finding are the department's own: a reader limited to
    Billing gets Billing's themes and quotes, not the organisation's (whose quotes may be any
    department's), and the comment search finds Billing's comments only."""
    from dashboard.data import _SEARCH

    everyone = _evidence(sample_db, Visibility(None, raw_records=False))
    billing = _evidence(sample_db, BILLING)
    assert set(everyone["department_id"]) > {"BIL", "CLM", "ALL"}
    assert set(billing["department_id"]) == {"BIL"}
    assert billing.height == everyone.filter(everyone["department_id"] == "BIL").height
    # Billing's reader reads exactly the quotes of Billing's rows, nothing of the others'.
    own = everyone.filter(everyone["department_id"] == "BIL").sort("theme_id")
    assert billing.sort("theme_id")["examples"].to_list() == own["examples"].to_list()
    con = connect_read_only(sample_db, BILLING)
    reader = cursor(con)
    try:
        found = reader.execute(
            _SEARCH,
            {
                "start": date(2024, 1, 1),
                "end": date(2026, 12, 1),
                "department": "ALL",
                "channel": "all",
                "pattern": "%call%",
                "limit": 1000,
            },
        ).fetchall()
        departments = reader.sql("SELECT DISTINCT department_id FROM comment_themes").fetchall()
    finally:
        reader.close()
        con.close()
    assert len(found) > 100 and {row[1] for row in found} == {"BIL"}
    assert departments == [("BIL",)]


def test_the_organisations_share_beside_a_department_is_withheld_when_it_would_give_one_away(
    sample_db,
):
    everyone = _evidence(sample_db, Visibility(None, raw_records=False))
    departments = sorted(set(everyone["department_id"]) - {"ALL"})
    # Every department but Sales: the organisation less them would be Sales.
    all_but_one = _evidence(sample_db, Visibility(tuple(d for d in departments if d != "SAL")))
    assert all_but_one.height > 0 and "ALL" not in set(all_but_one["department_id"])
    for column in ("organisation_share", "organisation_n", "organisation_comments"):
        assert all_but_one[column].null_count() == all_but_one.height
    assert _evidence(sample_db, BILLING)["organisation_share"].null_count() == 0
