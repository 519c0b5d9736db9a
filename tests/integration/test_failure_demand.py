"""The failure-demand ledger on the bundled sample: it recovers the failure demand the generator
planted, names the departments that caused it, and finds none where none was planted."""

from __future__ import annotations

import pytest

from etl.sample.bundled import DEPARTMENTS, PLANTED

#: How far a causing department's recovered volume of one reason may be from what was planted,
#: for every department and reason with MIN_PLANTED or more planted contacts
#: (docs/methodology.md#failure-demand: measured at most 5.4%, all of it repeats).
TOLERANCE = 0.06
MIN_PLANTED = 1000
#: The planted contacts found with their reason and cause, and the contacts found that were
#: planted so (measured: 99.9% and 97.7%).
MIN_RECALL, MIN_PRECISION = 0.99, 0.97

#: The generator's failure demand, from how it builds a case: every contact after a case's
#: first. A case handed to a back office comes back only to chase that back office (chase or
#: broken promise), a contact after one that transferred the customer is a bounce of the unit
#: that transferred, and any other comes back as a repeat of its own front-line unit.
PLANTED_SQL = """
    with tasks as (
        select case_id, min(department_id) as back_office from raw_case_tasks group by case_id
    ),
    contacts as (
        select
            interaction_id,
            coalesce(case_id, interaction_id) as case_id,
            department_id,
            lag(transferred_to) over (
                partition by coalesce(case_id, interaction_id) order by started_at, interaction_id
            ) as previous_transfer,
            row_number() over (
                partition by coalesce(case_id, interaction_id) order by started_at, interaction_id
            ) as position
        from raw_interactions
    )
    select
        interaction_id,
        case
            when tasks.back_office is not null then 'chase'
            when previous_transfer is not null then 'transfer_bounce'
            else 'repeat'
        end as reason_group,
        coalesce(tasks.back_office, contacts.department_id) as cause
    from contacts
    left join tasks using (case_id)
    where position > 1
"""

FOUND_SQL = """
    select
        interaction_id,
        if(reason in ('chase', 'broken_promise'), 'chase', reason) as reason_group,
        cause_department_id as cause
    from int_failure_demand
    where is_failure_demand
"""

FUNCTION = {d.id: d.function for d in DEPARTMENTS}


def _volumes(con, sql: str) -> dict[tuple[str, str], int]:
    rows = con.execute(f"SELECT cause, reason_group, count(*) FROM ({sql}) GROUP BY ALL")
    return {(cause, reason): n for cause, reason, n in rows.fetchall()}


def test_the_ledger_recovers_the_planted_volumes_by_causing_department_and_reason(sample_con):
    planted, found = _volumes(sample_con, PLANTED_SQL), _volumes(sample_con, FOUND_SQL)
    judged = {key: n for key, n in planted.items() if n >= MIN_PLANTED}
    assert len(judged) >= 10, judged
    off = {key: found.get(key, 0) / n - 1 for key, n in judged.items()}
    assert {key: e for key, e in off.items() if abs(e) > TOLERANCE} == {}
    assert set(found) <= set(planted), "a reason found for a department none was planted on"


def test_nearly_every_planted_contact_is_found_with_its_reason_and_cause(sample_con):
    planted, found, both = sample_con.execute(
        f"SELECT (SELECT count(*) FROM ({PLANTED_SQL})), (SELECT count(*) FROM ({FOUND_SQL})),"
        f" (SELECT count(*) FROM ({PLANTED_SQL}) JOIN ({FOUND_SQL})"
        " USING (interaction_id, reason_group, cause))"
    ).fetchone()
    assert both / planted >= MIN_RECALL
    assert both / found >= MIN_PRECISION


def test_the_ledger_names_the_departments_that_were_planted_as_causes(sample_con):
    caused = dict(
        sample_con.execute(
            "SELECT department_id, [sum(caused_repeat), sum(caused_chase + caused_broken_promise),"
            " sum(caused_transfer_bounce)] FROM failure_demand_month"
            " WHERE department_id <> 'ALL' GROUP BY department_id"
        ).fetchall()
    )
    assert max(caused, key=lambda d: caused[d][0]) == PLANTED["most_repeats"]
    assert max(caused, key=lambda d: caused[d][1]) == PLANTED["most_chases"]
    assert {d for d, n in caused.items() if n[2] > 0} == PLANTED["transfer_loop"]


def test_no_failure_demand_is_found_where_none_was_planted(sample_con):
    rows = sample_con.execute(
        "SELECT department_id, sum(failure_contacts), sum(caused_repeat),"
        " sum(caused_chase + caused_broken_promise), sum(caused_transfer_bounce)"
        " FROM failure_demand_month WHERE department_id <> 'ALL' GROUP BY department_id"
    ).fetchall()
    for department, received, repeats, chases, bounces in rows:
        function = FUNCTION[department]
        if function == "support":
            assert (received, repeats, chases, bounces) == (0, 0, 0, 0), department
        if function == "frontline":
            assert chases == 0, f"{department} holds no tasks, so its customers chase no one"
        if function == "back_office":
            assert (received, repeats, bounces) == (0, 0, 0), department
        if department not in PLANTED["transfer_loop"]:
            assert bounces == 0, department


def test_the_organisation_row_is_the_sum_of_its_departments(sample_con):
    off = sample_con.execute(
        "SELECT count(*) FROM failure_demand_month AS o JOIN (SELECT month, sum(contacts) AS c,"
        " sum(failure_contacts) AS f, sum(caused_contacts) AS k, sum(failure_hours) AS h"
        " FROM failure_demand_month WHERE department_id <> 'ALL' GROUP BY month) AS d"
        " USING (month) WHERE o.department_id = 'ALL'"
        " AND (o.contacts <> d.c OR o.failure_contacts <> d.f OR o.caused_contacts <> d.k"
        " OR abs(o.failure_hours - d.h) > 1e-6)"
    ).fetchone()[0]
    assert off == 0


def test_the_ledger_sets_the_hours_caused_elsewhere_against_the_hours_absorbed(sample_con):
    rows = sample_con.execute(
        "SELECT department_id, department_function, caused_elsewhere_hours, absorbed_hours,"
        " caused_elsewhere_cost, absorbed_cost, net_hours_caused FROM failure_demand_ledger"
    ).fetchall()
    ledger = {r[0]: r[1:] for r in rows}
    assert sum(r[1] for r in ledger.values()) == pytest.approx(sum(r[2] for r in ledger.values()))
    back_offices = {d: r for d, r in ledger.items() if r[0] == "back_office"}
    assert max(back_offices, key=lambda d: back_offices[d][1]) == PLANTED["most_chases"]
    for department, (function, _, absorbed, cost, absorbed_cost, net) in ledger.items():
        assert cost is not None and absorbed_cost is not None, "workforce cost is loaded"
        if function == "back_office":
            assert absorbed == 0 and net > 0, department
    # The window's hours caused elsewhere are the month view's, less what stayed at home.
    month_hours = sample_con.execute(
        "SELECT sum(f.handle_seconds) / 3600.0 FROM int_failure_demand AS f, int_value_window AS w"
        " WHERE f.cause_department_id = $d AND f.department_id <> $d"
        " AND f.month BETWEEN w.first_month AND w.last_month",
        {"d": PLANTED["most_chases"]},
    ).fetchone()[0]
    assert ledger[PLANTED["most_chases"]][1] == pytest.approx(month_hours)


def test_billings_faster_handling_is_set_against_the_failure_demand_it_caused(sample_con):
    rows = sample_con.execute(
        "SELECT productivity_metric, first_month, last_month, hours_saved, hours_saved_ci_low,"
        " failure_hours_added, failure_hours_added_ci_low, net_hours_lost, net_hours_lost_ci_low,"
        " net_hours_lost_ci_high, explanation FROM kpi_conflicts"
        " WHERE flagged AND department_id = 'BIL' AND outcome_metric = 'nps'"
        " AND productivity_metric IN ('aht_seconds', 'contacts_per_hour')"
    ).fetchall()
    assert "aht_seconds" in {r[0] for r in rows}
    metric, first, last, saved, saved_low, added, added_low, lost, low, high, text = next(
        r for r in rows if r[0] == "aht_seconds"
    )
    # Hours saved, worked again from the contacts: the last 6 months' contacts a month times
    # the fall in the months' mean handle time between the window's ends.
    months = sample_con.execute(
        "SELECT month, count(*), avg(handle_seconds) FROM int_interactions"
        " WHERE department_id = 'BIL' AND month BETWEEN $f AND $l GROUP BY month ORDER BY month",
        {"f": first, "l": last},
    ).fetchall()
    early, late = months[:6], months[-6:]
    contacts = sum(m[1] for m in late) / 6
    fall = sum(m[2] for m in early) / 6 - sum(m[2] for m in late) / 6
    assert saved == pytest.approx(contacts * fall / 3600)
    # The sample plants Billing's repeats rising as its calls get shorter: both are clear.
    assert saved_low > 0 and added_low > 0
    assert lost == pytest.approx(added - saved)
    assert low <= lost <= high
    verdict = "net loss" if low > 0 else "net gain" if high < 0 else "can't tell"
    assert verdict in text
    assert f"Billing's shorter contacts saved {saved:,.0f} agent hours a month" in text


def test_only_flagged_handling_conflicts_carry_a_net(sample_con):
    off = sample_con.execute(
        "SELECT count(*) FROM kpi_conflicts WHERE hours_saved IS NOT NULL"
        " AND NOT (flagged AND productivity_metric IN ('aht_seconds', 'contacts_per_hour'))"
    ).fetchone()[0]
    carried = sample_con.execute(
        "SELECT count(*) FROM kpi_conflicts WHERE hours_saved IS NOT NULL"
        " AND explanation LIKE '%agent hours a month%'"
    ).fetchone()[0]
    assert off == 0 and carried > 0
