"""The sentences that open the overview and the pack's headline section: only changes clear of
noise count, and the departments flagged are named."""

from __future__ import annotations

from datetime import date

import polars as pl

from etl.reporting import takeaways
from etl.reporting.sentences import overview_headline


def tile(label: str, better: str, change: float | None, clear: bool | None) -> dict:
    return {
        "label": label,
        "better": better,
        "change_vs_year_ago": change,
        "is_year_change_clear": clear,
    }


FINDINGS = [
    {"kind": "kpi_conflict", "department_id": "ALL", "department_name": None},
    {"kind": "kpi_conflict", "department_id": "BIL", "department_name": "Billing"},
    {"kind": "watermelon", "department_id": "CLM", "department_name": "Claims Processing"},
    {"kind": "faded_initiative", "department_id": "RTN", "department_name": None},
]


def test_the_overview_sentence_names_only_clear_changes_and_the_flagged_departments():
    tiles = [
        tile("NPS", "higher", -9.0, True),
        tile("first-contact resolution", "higher", -0.4, False),
        tile("handle time", "lower", -30.0, True),
        tile("occupancy", "higher", None, None),
    ]
    assert overview_headline(tiles, FINDINGS, "Oct 2025") == (
        "Against Oct 2025, NPS is clearly worse; handle time clearly better."
        " 4 findings need attention: 2 units with conflicting KPIs (the organisation and"
        " Billing), 1 watermelon department (Claims Processing) and 1 quick fix that faded."
    )


def test_with_nothing_clear_and_nothing_flagged_the_sentence_says_so():
    tiles = [tile("NPS", "higher", -1.7, False)]
    assert overview_headline(tiles, [], "Oct 2025") == (
        "No headline figure moved clearly against Oct 2025. Nothing is flagged: no KPI"
        " conflict, no department working against its customers."
    )


def headlines(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema=["metric", "better", "change_vs_year_ago", "is_year_change_clear"],
        orient="row",
    )


def test_the_packs_headline_takeaway_counts_only_changes_clear_of_noise():
    frame = headlines(
        [
            ("nps", "higher", -9.0, True),
            ("fcr_rate", "higher", -0.004, False),
            ("repeat_contact_rate", "lower", 0.001, False),
            ("aht_seconds", "lower", -30.0, True),
            ("contacts_per_hour", "higher", 0.17, False),
        ]
    )
    sentence = takeaways.headlines(frame, date(2025, 10, 1))
    assert "one of one customer outcomes that moved clearly got worse (NPS -9.0 pts)" in sentence
    assert "one of one productivity KPIs that moved clearly got better" in sentence


def test_a_snapshot_frozen_before_changes_were_judged_counts_every_change():
    frame = headlines([("nps", "higher", -9.0, None), ("fcr_rate", "higher", -0.03, None)])
    assert "two of two customer outcomes" in takeaways.headlines(frame, date(2025, 10, 1))


def test_the_packs_headline_table_colours_only_clear_changes():
    from etl.reporting.pack import _tone

    row = {"better": "lower", "change_vs_year_ago": -30.0, "is_year_change_clear": True}
    assert _tone(row, "change_vs_year_ago", "is_year_change_clear") == "better"
    row |= {"is_year_change_clear": False}
    assert _tone(row, "change_vs_year_ago", "is_year_change_clear") == "unclear"
    assert _tone({"change_vs_previous": 1.0}, "change_vs_previous", "is_change_clear") == ""


def test_the_failure_demand_sentence_says_higher_or_lower_only_when_clear():
    from etl.reporting.sentences import failure_demand_sentence

    row = {
        "failure_share": 0.152,
        "failure_share_n": 30_858,
        "year_ago_share": 0.125,
        "change_vs_year_ago": 0.027,
        "is_year_change_clear": True,
    }
    clear = failure_demand_sentence(row, "October 2026", "October 2025")
    assert clear == (
        "Failure demand was 15.2% of contacts (all channels) in October 2026 (n = 30,858):"
        " clearly higher than 12.5% in October 2025."
    )
    unclear = failure_demand_sentence(row | {"is_year_change_clear": False}, "Oct", "Oct 25")
    assert unclear.endswith(": no clear change from 12.5% in Oct 25.")
    lower = row | {"year_ago_share": 0.2, "change_vs_year_ago": -0.048}
    assert "clearly lower than 20.0%" in failure_demand_sentence(lower, "Oct", "Oct 25")
    first_year = row | {"year_ago_share": None, "is_year_change_clear": None}
    assert "no figure a year before" in failure_demand_sentence(first_year, "Oct", "Oct 25")
    assert "no contacts" in failure_demand_sentence(None, "Oct", "Oct 25")
