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
