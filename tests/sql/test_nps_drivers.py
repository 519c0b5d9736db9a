"""nps_drivers and nps_driver_answers on the sample warehouse, against the story the sample
plants in its scores: a broken promise and an unresolved first contact cost NPS, the wait does
not enter the score at all."""

from __future__ import annotations


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_every_answer_with_a_score_is_linked_or_counted_as_unlinked(sample_con):
    scored = rows(sample_con, "SELECT count(*) FROM int_nps_responses WHERE score IS NOT NULL")
    linked = rows(sample_con, "SELECT count(*) FROM nps_driver_answers")
    unlinked = rows(
        sample_con,
        "SELECT DISTINCT unlinked_answers FROM nps_drivers WHERE department_id = 'ALL'",
    )
    assert linked[0][0] + unlinked[0][0] == scored[0][0]
    assert linked[0][0] > 0.9 * scored[0][0]


def test_the_planted_story_shows_in_the_organisation_drivers(sample_con):
    verdicts = dict(
        rows(sample_con, "SELECT driver, verdict FROM nps_drivers WHERE department_id = 'ALL'")
    )
    assert verdicts["promise_broken"] == "lower NPS"
    assert verdicts["unresolved_first_contact"] == "lower NPS"
    assert verdicts["long_wait"] == "no clear effect"
    (weights,) = rows(
        sample_con,
        "SELECT sum(importance) - max(r_squared) FROM nps_drivers WHERE department_id = 'ALL'",
    )
    assert abs(weights[0]) < 1e-9  # the relative weights split the R^2


def test_a_department_below_the_minimum_says_too_few_answers(sample_con):
    small = rows(
        sample_con,
        "SELECT DISTINCT department_id, verdict FROM nps_drivers WHERE answers < 200",
    )
    assert small and all(verdict == "too few answers" for _, verdict in small)


def test_each_channel_and_back_office_is_weighed_against_the_usual_one(sample_con):
    """The sample's answers come by five channels and its cases go to four back offices:
    each value but the most common becomes a driver compared with it."""
    channels = rows(
        sample_con,
        "SELECT channel FROM nps_driver_answers GROUP BY channel ORDER BY count(*) DESC",
    )
    offices = rows(
        sample_con,
        "SELECT back_office_id FROM nps_driver_answers WHERE back_office_id IS NOT NULL"
        " GROUP BY ALL ORDER BY count(*) DESC",
    )
    weighed = rows(
        sample_con,
        "SELECT driver, compared_with, driver_label FROM nps_drivers WHERE department_id = 'ALL'"
        " AND compared_with IS NOT NULL ORDER BY driver",
    )
    usual_channel, *other_channels = [c for (c,) in channels]
    usual_office, *other_offices = [o for (o,) in offices]
    expected = sorted(
        [(f"channel:{c}", usual_channel) for c in other_channels]
        + [(f"back_office_id:{o}", usual_office) for o in other_offices]
    )
    assert [(d, c) for d, c, _ in weighed] == expected
    assert len(expected) >= 5
    labels = dict((d, label) for d, _, label in weighed)
    assert labels[f"channel:{other_channels[0]}"] == (
        f"a contact by {other_channels[0]} rather than {usual_channel}"
    )
    assert all(labels[f"back_office_id:{o}"].startswith("a hand-off to ") for o in other_offices)
