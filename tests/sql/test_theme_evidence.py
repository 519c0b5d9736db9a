"""Customers' words beside the findings (theme_evidence) and the rising themes (theme_rising),
recounted from the comments themselves on the sample warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest


@pytest.fixture(scope="module")
def con(sample_db: Path):
    con = duckdb.connect(str(sample_db), read_only=True)
    yield con
    con.close()


#: A department's detractors' comments in the window: on its cases, or answered about it.
MINE = (
    "SELECT DISTINCT c.response_id FROM comment_themes c JOIN stg_nps_responses r"
    " USING (response_id), int_value_window w WHERE c.nps_category = 'detractor'"
    " AND c.month BETWEEN w.first_month AND w.last_month AND (c.department_id = $d"
    " OR r.case_id IN (SELECT case_id FROM int_case_touches WHERE department_id = $d))"
)


def test_the_watermelons_detractors_write_of_call_backs_far_above_the_organisation(con):
    top = con.sql(
        "SELECT * FROM theme_evidence WHERE department_id = 'CLM' AND theme_rank = 1"
    ).pl()
    row = top.row(0, named=True)
    assert row["theme_id"] == "callback_not_made"
    assert row["share"] >= 3 * row["organisation_share"]
    assert row["department_name"] == "Claims Processing"


@pytest.mark.parametrize("department", ["CLM", "BIL", "RTN"])
def test_shares_and_n_are_the_comments_recounted(con, department):
    (n,) = con.execute(f"SELECT count(*) FROM ({MINE})", {"d": department}).fetchall()[0]
    counted = dict(
        con.execute(
            f"SELECT theme_id, count(*) FROM comment_themes WHERE response_id IN ({MINE})"
            " AND theme_id <> 'unmatched' GROUP BY theme_id",
            {"d": department},
        ).fetchall()
    )
    shown = con.execute(
        "SELECT theme_id, detractor_comments, detractors_n, share FROM theme_evidence"
        " WHERE department_id = $d",
        {"d": department},
    ).fetchall()
    assert n > 100
    assert {t: c for t, c, _, _ in shown} == counted
    assert {d for _, _, d, _ in shown} == {n}
    assert all(abs(s - c / n) < 1e-12 for _, c, _, s in shown)


def test_examples_are_the_shortest_clear_comments_of_that_department_and_theme(con):
    rows = con.sql(
        "SELECT department_id, theme_id, examples FROM theme_evidence WHERE department_id <> 'ALL'"
    ).fetchall()
    quoted = 0
    for department, theme, examples in rows:
        assert len(examples) <= 3 and len(set(examples)) == len(examples)
        assert [len(e) for e in examples] == sorted(len(e) for e in examples)
        for example in examples:
            quoted += 1
            # The comment is the department's detractor's, took the theme as its strongest,
            # with a score of at least 0.5.
            (found,) = con.execute(
                f"SELECT count(*) FROM comment_themes c WHERE c.response_id IN ({MINE})"
                " AND c.theme_id = $t AND c.redacted_comment = $e AND c.score >= 0.5"
                " AND c.score = (SELECT max(score) FROM comment_themes s"
                " WHERE s.response_id = c.response_id)",
                {"d": department, "t": theme, "e": example},
            ).fetchall()[0]
            assert found > 0, (department, theme, example)
    assert quoted > 50
    # Not random: the same three every time, the shortest first.
    [(claims,)] = con.sql(
        "SELECT examples FROM theme_evidence WHERE department_id = 'CLM'"
        " AND theme_id = 'callback_not_made'"
    ).fetchall()
    assert claims[0] == "No one rang me back as promised."


def test_no_personal_detail_is_quoted(con):
    (found,) = con.sql(
        "SELECT count(*) FROM (SELECT unnest(examples) AS e FROM theme_evidence)"
        " WHERE regexp_matches(e, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\\.[A-Za-z]|[0-9]{6}')"
    ).fetchall()[0]
    assert found == 0


def test_rising_themes_compare_the_last_three_months_with_the_three_before(con):
    rising = con.sql(
        "SELECT * FROM theme_rising WHERE department_id = 'RTN' AND theme_id = 'staff_helpful'"
    ).pl()
    row = rising.row(0, named=True)
    assert (row["recent_to"].month - row["recent_from"].month) % 12 == 2
    recent = con.execute(
        "SELECT sum(comments), sum(comments_n) FROM theme_month WHERE department_id = 'RTN'"
        " AND theme_id = 'staff_helpful' AND month BETWEEN $a AND $b",
        {"a": row["recent_from"], "b": row["recent_to"]},
    ).fetchall()[0]
    assert (row["recent_comments"], row["recent_n"]) == recent
    assert row["is_enough"]
    assert row["change"] == pytest.approx(row["recent_share"] - row["before_share"])


def test_too_few_comments_give_no_change(con):
    few = con.sql(
        "SELECT recent_n, before_n, is_enough, change FROM theme_rising"
        " WHERE least(recent_n, before_n) < 30"
    ).fetchall()
    assert few, "the sample's Executive Escalations has a handful of comments"
    assert all(not enough and change is None for _, _, enough, change in few)
    # The organisation's rows add up every department's.
    (bad,) = con.sql(
        "SELECT count(*) FROM theme_rising o WHERE department_id = 'ALL' AND recent_comments <>"
        " (SELECT sum(recent_comments) FROM theme_rising d WHERE d.department_id <> 'ALL'"
        " AND d.theme_id = o.theme_id)"
    ).fetchall()[0]
    assert bad == 0
