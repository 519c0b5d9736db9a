"""Themes in the sample's comments: the planted stories show, noise stays unthemed, no
personal detail survives, and a build themes only what changed."""

from __future__ import annotations

import duckdb
import pytest

from etl.analyses import themes
from etl.sample.comments import NOISE
from tests.conftest import invoke_cxkpi

#: An e-mail address or a run of six digits (a phone or account number's tail).
PERSONAL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z]|[0-9]{6}"


def _detractor_share(con, where: str, theme: str) -> float:
    return con.execute(
        "SELECT count(DISTINCT CASE WHEN theme_id = $t THEN response_id END)"
        " / count(DISTINCT response_id) FROM comment_themes"
        f" WHERE nps_category = 'detractor' AND {where}",
        {"t": theme},
    ).fetchall()[0][0]


def _top(con, where: str, n: int = 2) -> list[str]:
    rows = con.execute(
        "SELECT theme_id FROM comment_themes WHERE nps_category = 'detractor'"
        f" AND theme_id <> 'unmatched' AND {where}"
        " GROUP BY theme_id ORDER BY count(*) DESC, theme_id LIMIT $n",
        {"n": n},
    ).fetchall()
    return [r[0] for r in rows]


def test_billing_detractors_write_about_repeats_and_wrong_bills(sample_con):
    assert set(_top(sample_con, "department_id = 'BIL'")) == {"not_resolved", "billing_error"}
    assert _detractor_share(sample_con, "department_id = 'BIL'", "billing_error") >= 3 * (
        _detractor_share(sample_con, "department_id <> 'BIL'", "billing_error")
    )


def test_the_watermelons_cases_bring_broken_call_backs(sample_con):
    held = "response_id IN (SELECT r.response_id FROM stg_nps_responses r JOIN stg_case_tasks t"
    held += " USING (case_id) WHERE t.department_id = 'CLM')"
    assert _top(sample_con, held, 1) == ["callback_not_made"]
    assert _detractor_share(sample_con, held, "callback_not_made") >= 2 * _detractor_share(
        sample_con, f"NOT {held}", "callback_not_made"
    )


def test_retention_is_praised_in_the_coaching_months_only(sample_con):
    (during, after) = (
        sample_con.execute(
            "SELECT sum(comments) / sum(comments_n) FROM theme_month WHERE department_id = 'RTN'"
            f" AND theme_id = 'staff_helpful' AND {months}"
        ).fetchall()[0][0]
        for months in (
            "month BETWEEN DATE '2025-09-01' AND DATE '2025-11-01'",
            "month >= DATE '2026-01-01'",
        )
    )
    assert during >= after + 0.1


def test_pure_noise_seldom_takes_a_theme(sample_con):
    """The stated rate: at most 20 % of the sample's noise comments take any theme."""
    themed, total = sample_con.execute(
        "SELECT count(*) FILTER (WHERE themes > 0), count(*) FROM comment_texts"
        " WHERE redacted_comment IN (SELECT unnest($noise))",
        {"noise": list(NOISE)},
    ).fetchall()[0]
    assert total > 1000
    assert themed / total <= 0.20


def test_no_email_or_phone_number_survives_in_any_comment_view(sample_con):
    sent = sample_con.execute(
        "SELECT count(*) FROM stg_nps_responses WHERE regexp_matches(comment, $p)",
        {"p": PERSONAL},
    ).fetchall()[0][0]
    assert sent > 100  # the sample writes some, so the views below have some to lose
    for view, column in (
        ("comment_texts", "redacted_comment"),
        ("comment_themes", "redacted_comment"),
    ):
        kept = sample_con.execute(
            f"SELECT count(*) FROM {view} WHERE regexp_matches({column}, $p)", {"p": PERSONAL}
        ).fetchall()[0][0]
        assert kept == 0, view


def test_every_comment_is_counted_once_themed_or_not(sample_con):
    comments, counted = sample_con.execute(
        "SELECT (SELECT count(*) FROM stg_nps_responses WHERE trim(comment) <> ''),"
        " (SELECT count(DISTINCT response_id) FROM comment_themes)"
    ).fetchall()[0]
    assert comments == counted > 30_000
    share = sample_con.execute(
        "SELECT sum(comments) / sum(comments_n) FROM theme_month WHERE theme_id = 'unmatched'"
    ).fetchall()[0][0]
    assert 0 < share < 0.2


def test_a_build_themes_only_new_or_changed_comments(sample_copy, monkeypatch):
    from etl.warehouse.models import build

    seen: list[int] = []
    assign = themes.Themer.assign
    monkeypatch.setattr(
        themes.Themer, "assign", lambda self, c: seen.append(len(c)) or assign(self, c)
    )
    con = duckdb.connect(str(sample_copy))
    before = con.execute("SELECT * FROM comment_themes ORDER BY ALL").fetchall()
    build(con)
    assert seen == []  # nothing new: nothing themed, not even the taxonomy measured again
    assert con.execute("SELECT * FROM comment_themes ORDER BY ALL").fetchall() == before
    changed = con.execute(
        "SELECT response_id FROM comment_texts WHERE themes = 0 ORDER BY response_id LIMIT 1"
    ).fetchall()[0][0]
    con.execute(
        "UPDATE raw_nps_responses SET comment = 'charged twice, mail me at a@b.com'"
        " WHERE response_id = $r",
        {"r": changed},
    )
    build(con)
    assert seen == [1]
    assert con.execute(
        "SELECT theme_id, redacted_comment FROM comment_themes WHERE response_id = $r",
        {"r": changed},
    ).fetchall() == [("billing_error", "charged twice, mail me at [email]")]
    con.close()


GOOD = """themes:
  - id: money
    label: Money
    definition: Anything about bills or charges.
    seeds: [wrong bill, charged twice, refund missing, overcharged]
  - id: waiting
    label: Waiting
    definition: Waits.
    seeds: [on hold for ages, waited too long, slow to answer]
"""


def test_a_changed_taxonomy_themes_every_comment_again(sample_copy, tmp_path, monkeypatch):
    from etl.warehouse.models import build

    path = tmp_path / "mine.yml"
    path.write_text(GOOD)
    monkeypatch.setenv("CXKPI_THEMES", str(path))
    con = duckdb.connect(str(sample_copy))
    build(con)
    assert con.execute("SELECT theme_id, reliable FROM theme_taxonomy ORDER BY 1").fetchall() == [
        ("money", None),
        ("waiting", None),
    ]
    assert {
        r[0] for r in con.execute("SELECT DISTINCT theme_id FROM comment_themes").fetchall()
    } == {"money", "waiting", "unmatched"}
    con.close()


def test_themes_check_shows_what_a_file_would_take(sample_db, tmp_path):
    path = tmp_path / "mine.yml"
    path.write_text(GOOD)
    done = invoke_cxkpi("--db", str(sample_db), "themes", "check", str(path), "--examples", "2")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "2 theme(s)" in out
    assert "money - Money:" in out and "not measured" in out
    assert "unmatched:" in out
    money = out.split("money - Money:")[1].split("\n\n")[0]
    assert 1 <= money.count('  "') <= 2
    assert "@" not in out


def test_themes_check_names_the_line_of_a_bad_file(sample_db, tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(GOOD.replace("    label: Waiting\n", ""))
    done = invoke_cxkpi("--db", str(sample_db), "themes", "check", str(path))
    assert done.returncode != 0
    assert f"{path}:6: a theme is missing 'label'" in done.stderr


@pytest.mark.parametrize("theme", ["staff_helpful", "callback_not_made"])
def test_the_shipped_themes_are_marked_reliable(sample_con, theme):
    assert sample_con.execute(
        "SELECT DISTINCT reliable FROM theme_month WHERE theme_id = $t", {"t": theme}
    ).fetchall() == [(True,)]
