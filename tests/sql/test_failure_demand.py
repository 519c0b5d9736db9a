"""int_failure_demand and failure_demand_month given a few raw rows: each rule, its cause and
the precedence between them, and the costs and reasons a file cannot show."""

from __future__ import annotations

from datetime import date

import pytest

from etl.warehouse.access import Visibility
from tests.sql.test_metrics import warehouse

JAN = date(2026, 1, 1)
FAILURE_DEMAND_MONTH_COLUMNS = ("department_id", "month", "contacts", "caused_contacts")


def contact(i, at, case, department="FL", customer=None, resolved=None, to=None, due=None):
    """A raw interactions row of 300 seconds in contract column order."""
    return (i, at, department, 300, case, customer, "phone", "a1", 10, resolved, to, due, None)


def task(i, case, opened, closed=None, sla=48):
    """A raw case_tasks row of the back office BO."""
    return (i, case, "BO", opened, closed, sla)


#: contact id -> (reason, cause department, earlier contact, task) the rules must give it.
EXPECTED = {
    "r2": ("repeat", "FL", "r1", None),
    "w2": (None, None, None, None),  # 15 days later: outside the window
    "x2": (None, None, None, None),  # the customer's earlier contact was marked resolved
    "y2": ("repeat", "FL", "y1", None),  # the customer's earlier contact did not resolve
    "l2": (None, None, None, None),  # the leg a transfer led to
    "s2": ("transfer_bounce", "FL", "s1", None),  # a second transfer
    "s3": (None, None, None, None),  # the leg the second transfer led to
    "b2": ("transfer_bounce", "FL", "b1", None),  # back where it started, never taken up
    "h2": ("repeat", "FL", "h1", None),  # taken up by a task: a hand-off, not a bounce
    "c2": ("chase", "BO", None, "tc"),  # task past its SLA; a repeat too, chase comes first
    "p2": ("broken_promise", "BO", "p1", "tp"),  # the task had closed; the call-back never came
    "q2": ("broken_promise", "FL", "q1", None),  # no task: the promise was the front line's
    "k2": ("chase", "BO", None, "tk"),  # task open past the promised call-back
}


@pytest.fixture(scope="module")
def con():
    return warehouse(
        interactions=[
            contact("r1", "2026-01-05 09:00", "R"),
            contact("r2", "2026-01-08 09:00", "R"),
            contact("w1", "2026-01-05 09:00", "W"),
            contact("w2", "2026-01-20 09:00", "W"),
            contact("x1", "2026-01-05 09:00", "X1", customer="CX", resolved=True),
            contact("x2", "2026-01-06 09:00", "X2", customer="CX"),
            contact("y1", "2026-01-05 09:00", "Y1", customer="CY", resolved=False),
            contact("y2", "2026-01-06 09:00", "Y2", customer="CY"),
            contact("l1", "2026-01-05 09:00", "L", to="BO"),
            contact("l2", "2026-01-05 09:10", "L", department="BO"),
            contact("s1", "2026-01-05 09:00", "S", to="BO"),
            contact("s2", "2026-01-05 09:10", "S", department="BO", to="FL"),
            contact("s3", "2026-01-05 09:20", "S"),
            contact("b1", "2026-01-05 09:00", "B", to="BO"),
            contact("b2", "2026-01-06 09:00", "B"),
            contact("h1", "2026-01-05 09:00", "H", to="BO"),
            contact("h2", "2026-01-06 12:00", "H"),
            contact("c1", "2026-01-05 09:00", "C"),
            contact("c2", "2026-01-07 09:00", "C"),
            contact("p1", "2026-01-05 09:00", "P", due="2026-01-07 09:00"),
            contact("p2", "2026-01-08 09:00", "P"),
            contact("q1", "2026-01-05 09:00", "Q", due="2026-01-06 09:00"),
            contact("q2", "2026-01-07 09:00", "Q"),
            contact("k1", "2026-01-05 09:00", "K", due="2026-01-06 09:00"),
            contact("k2", "2026-01-07 09:00", "K"),
        ],
        case_tasks=[
            task("th", "H", "2026-01-05 10:00", "2026-01-06 09:00"),
            task("tc", "C", "2026-01-05 10:00", sla=24),
            task("tp", "P", "2026-01-05 10:00", "2026-01-06 09:00"),
            task("tk", "K", "2026-01-05 10:00", sla=240),
        ],
        workforce=[("2026-01-05", "a1", "FL", 480, 480, 300, 432, 0, 600.0)],
    )


def test_each_contact_gets_the_first_rule_that_holds_and_the_department_behind_it(con):
    rows = con.execute(
        "SELECT interaction_id, reason, cause_department_id, cause_interaction_id, cause_task_id"
        " FROM int_failure_demand"
    ).fetchall()
    got = {i: rest for i, *rest in rows}
    assert {i: tuple(got[i]) for i in EXPECTED} == EXPECTED
    first_contacts = {i for i in got if i.endswith("1")}
    assert {i: got[i] for i in first_contacts} == {i: [None] * 4 for i in first_contacts}


def test_the_month_counts_what_each_department_received_and_caused_with_its_cost(con):
    rows = con.execute(
        "SELECT department_id, contacts, failure_contacts, received_repeat, received_chase,"
        " received_broken_promise, received_transfer_bounce, caused_contacts, caused_chase,"
        " caused_broken_promise, failure_hours, failure_cost, failure_cost_note"
        " FROM failure_demand_month WHERE month = $m ORDER BY department_id",
        {"m": JAN},
    ).fetchall()
    fl_failures = sum(1 for e in EXPECTED.values() if e[0]) - 1  # s2 was handled by BO
    # FL's cost per handled minute: 600 / 300 = 2; each contact is 5 minutes.
    assert rows == [
        (
            "ALL",
            25,
            fl_failures + 1,
            3,
            2,
            2,
            2,
            fl_failures + 1,
            2,
            2,
            9 * 300 / 3600,
            None,
            "no workforce cost per handled minute for every department that month",
        ),
        (
            "BO",
            2,
            1,
            0,
            0,
            0,
            1,
            3,
            2,
            1,
            300 / 3600,
            None,
            "no workforce cost per handled minute loaded for the month",
        ),
        ("FL", 23, fl_failures, 3, 2, 2, 1, 6, 0, 1, 8 * 300 / 3600, 8 * 5 * 2.0, None),
    ]


def test_a_file_without_tasks_promises_transfers_or_links_says_which_reasons_it_cannot_show():
    con = warehouse(interactions=[(str(i), "2026-01-05 09:00", "FL", 300) for i in range(3)])
    note, failures = con.execute(
        "SELECT not_classified, failure_contacts FROM failure_demand_month"
        " WHERE department_id = 'ALL'"
    ).fetchone()
    assert note == (
        "chase: no case tasks loaded; broken_promise: no promised follow-ups recorded;"
        " transfer_bounce: no transfers recorded; repeat: no customer or case ids recorded"
    )
    assert failures == 0


@pytest.mark.parametrize(("scope", "organisation_rows"), [(("FL",), 0), (("FL", "BO"), 1)])
def test_a_scoped_reader_sees_the_organisation_only_where_it_hides_more_than_one_department(
    con, scope, organisation_rows
):
    # Outside FL only BO received or caused failure demand: the total less FL would be BO's.
    select = Visibility(scope).expose("failure_demand_month", FAILURE_DEMAND_MONTH_COLUMNS)
    shown = con.execute(
        f"SELECT department_id FROM ({select.format(source='failure_demand_month', file='memory')})"
        " WHERE month = $m",
        {"m": JAN},
    ).fetchall()
    assert sorted(shown) == sorted([("ALL",)] * organisation_rows + [(d,) for d in scope])
