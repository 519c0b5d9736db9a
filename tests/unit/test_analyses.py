"""The analyses on small synthetic series: conflicts found and noise survived, and the EX-CX
linkage assessed, through a back office's held cases too, or told why not."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from etl.analyses.conflicts import kpi_conflicts
from etl.analyses.linkage import ex_cx_linkage
from etl.analyses.thresholds import MIN_PERIODS


def series(aht: np.ndarray, fcr: np.ndarray) -> pl.DataFrame:
    """metric_month-shaped rows for one department: handle time and first-contact resolution."""
    months = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(len(aht))]
    rows = [
        ("D", "Dept", month, "aht_seconds", float(a), 1000, None, None)
        for month, a in zip(months, aht, strict=True)
    ]
    rows += [
        ("D", "Dept", month, "fcr_rate", float(f), 1000, None, None)
        for month, f in zip(months, fcr, strict=True)
    ]
    return pl.DataFrame(
        rows,
        orient="row",
        schema=["department_id", "name", "month", "metric", "value", "n", "ci_low", "ci_high"],
    )


def pair(table: pl.DataFrame) -> dict:
    return table.filter(
        (pl.col("productivity_metric") == "aht_seconds") & (pl.col("outcome_metric") == "fcr_rate")
    ).row(0, named=True)


def test_handle_time_falling_while_resolution_falls_is_flagged():
    rng = np.random.default_rng(0)
    trend = np.linspace(0, 1, 24)
    row = pair(
        kpi_conflicts(
            series(
                500 - 150 * trend + rng.normal(0, 5, 24),
                0.74 - 0.2 * trend + rng.normal(0, 0.01, 24),
            )
        )
    )
    assert row["flagged"] and row["association"] < -0.8
    assert row["explanation"].startswith(
        "In Dept, between the first and last 6 of 24 months (averages), handle time fell"
    )


@pytest.mark.parametrize("seed", range(25))
def test_a_department_whose_productivity_did_not_move_is_never_flagged(seed):
    rng = np.random.default_rng(seed)
    trend = np.linspace(0, 1, 24)
    # Handle time is flat with noise (and noise that happens to trend must stay under 10%).
    aht = 450 + rng.normal(0, 15, 24)
    fcr = 0.74 - 0.2 * trend + rng.normal(0, 0.01, 24)
    row = pair(kpi_conflicts(series(aht, fcr)))
    assert not row["flagged"]
    assert "did not improve materially" in row["explanation"]


def test_too_few_months_are_not_assessed():
    months = MIN_PERIODS - 1
    row = pair(kpi_conflicts(series(np.linspace(500, 300, months), np.linspace(0.8, 0.5, months))))
    assert (row["flagged"], row["association"]) == (False, None)
    assert row["explanation"].startswith(f"Not assessed: only {months} months")


def series_from(start: int, aht: np.ndarray, fcr: np.ndarray) -> pl.DataFrame:
    """series(), the first month being `start` months after January 2025."""
    frame = series(np.r_[np.zeros(start), aht], np.r_[np.zeros(start), fcr])
    return frame.filter(pl.col("month") >= date(2025 + start // 12, start % 12 + 1, 1))


@pytest.mark.parametrize("length", [24, 30, 35])
@pytest.mark.parametrize("start", range(12))
def test_a_seasonal_department_is_never_flagged_wherever_the_window_starts_and_ends(start, length):
    # Every October to December handling is 40% faster and resolution 15 points lower: the
    # busy season, the same each year. No drive, no conflict, at any cut of the calendar.
    rng = np.random.default_rng(start * 100 + length)
    calendar = (np.arange(start, start + length) % 12) + 1
    busy = np.isin(calendar, [10, 11, 12])
    aht = 450 * np.where(busy, 0.6, 1.0) + rng.normal(0, 5, length)
    fcr = 0.74 - 0.15 * busy + rng.normal(0, 0.01, length)
    row = pair(kpi_conflicts(series_from(start, aht, fcr)))
    assert row["n_periods"] == length
    assert not row["flagged"]
    assert abs(row["productivity_change"]) < 0.10 * 450


def test_a_drive_still_shows_through_a_season():
    rng = np.random.default_rng(7)
    calendar = (np.arange(30) % 12) + 1
    busy = np.isin(calendar, [11, 12])
    trend = np.linspace(0, 1, 30)
    aht = 500 * np.where(busy, 0.75, 1.0) - 120 * trend + rng.normal(0, 5, 30)
    fcr = 0.74 - 0.12 * busy - 0.15 * trend + rng.normal(0, 0.01, 30)
    row = pair(kpi_conflicts(series_from(3, aht, fcr)))
    assert row["flagged"]


def test_two_years_with_a_calendar_month_missing_are_not_assessed():
    months = series(np.linspace(500, 300, 26), np.linspace(0.8, 0.5, 26))
    # Both Marches missing: March's season cannot be told from the trend.
    row = pair(kpi_conflicts(months.filter(pl.col("month").dt.month() != 3)))
    assert (row["flagged"], row["association"]) == (False, None)
    assert "every calendar month twice" in row["explanation"]


@pytest.mark.generated  # 1,000 simulated pairs per case: the generated-data tier
@pytest.mark.parametrize("seasonal", [False, True], ids=["no-season", "opposed-seasons"])
@pytest.mark.parametrize("months", [24, 30])
def test_the_association_keeps_its_error_rate_with_or_without_a_season(months, seasonal):
    # Two series unrelated month to month: p < 0.05 must come about 5% of the time. With a
    # busy season that moves them against each other every year, the season is found and taken
    # out at the price of its 11 degrees of freedom. Not taking it out gives p < 0.05 for nearly
    # every such pair. Measured: 6% without a season; with one, 10% at 24 months (two values
    # per calendar month leave little to judge by) and 6% at 30. The materiality of both moves
    # is what keeps such chance associations from flags (docs/methodology.md).
    from etl.analyses.conflicts import _association

    rng = np.random.default_rng(months + seasonal)
    calendar = pl.Series([date(2024 + k // 12, k % 12 + 1, 1) for k in range(months)])
    busy = np.isin(calendar.dt.month().to_numpy(), [11, 12]) * (3.0 if seasonal else 0.0)
    p_values = [
        _association(calendar, busy + rng.normal(size=months), -busy + rng.normal(size=months))[3]
        for _ in range(1000)
    ]
    limit = 0.12 if seasonal and months == 24 else 0.08
    assert 0.02 <= np.mean(np.array(p_values) < 0.05) <= limit


# --- the organisation's flags traced to the departments that made them ----------------------


def organisation(departments: dict[str, tuple[np.ndarray, np.ndarray, int]]) -> pl.DataFrame:
    """Departments' handle time and first-contact resolution with their volume n, and the
    organisation's figures (ALL) as metric_month computes them: the n-weighted mean."""
    frames = []
    for department, (aht, fcr, n) in departments.items():
        frame = series(aht, fcr).with_columns(
            department_id=pl.lit(department), name=pl.lit(f"Dept {department}"), n=pl.lit(n)
        )
        frames.append(frame)
    both = pl.concat(frames)
    total = both.group_by("month", "metric").agg(
        ((pl.col("value") * pl.col("n")).sum() / pl.col("n").sum()).alias("value"),
        pl.col("n").sum(),
    )
    total = total.with_columns(
        department_id=pl.lit("ALL"),
        name=pl.lit("the organisation"),
        ci_low=pl.lit(None, dtype=pl.Float64),
        ci_high=pl.lit(None, dtype=pl.Float64),
    ).select(both.columns)
    return pl.concat([both, total], how="vertical_relaxed")


def org_pair(table: pl.DataFrame, department: str = "ALL") -> dict:
    return pair(table.filter(pl.col("department_id") == department))


def test_an_organisation_flag_one_department_explains_shows_through_the_totals():
    rng = np.random.default_rng(3)
    trend = np.clip(np.linspace(-0.3, 1.2, 30), 0, 1)
    flat = np.zeros(30)
    table = kpi_conflicts(
        organisation(
            {
                "A": (500 - 150 * trend + rng.normal(0, 5, 30),
                      0.75 - 0.2 * trend + rng.normal(0, 0.01, 30), 3000),
                "B": (420 + flat + rng.normal(0, 5, 30), 0.7 + rng.normal(0, 0.01, 30), 1000),
            }
        )
    )  # fmt: skip
    org = org_pair(table)
    assert org_pair(table, "A")["flagged"] and org["flagged"]
    assert org["shows_through"] == "A"
    assert org["productivity_driver_id"] == "A" and org["productivity_driver_share"] > 0.9
    assert org["outcome_driver_id"] == "A" and org["outcome_driver_share"] > 0.9
    assert "this is Dept A's conflict showing through the totals" in org["explanation"]
    assert org["explanation"].endswith(f": {org['drivers']}.")


def test_an_organisation_flag_made_by_two_departments_names_each_move_and_stands_alone():
    # A speeds up and its customers are no worse; B's customers lose out with no speed-up.
    # Only the totals show productivity up and outcomes down: the trap.
    rng = np.random.default_rng(4)
    trend = np.clip(np.linspace(-0.3, 1.2, 30), 0, 1)
    table = kpi_conflicts(
        organisation(
            {
                "A": (500 - 200 * trend + rng.normal(0, 5, 30),
                      0.75 + rng.normal(0, 0.005, 30), 3000),
                "B": (420 + rng.normal(0, 5, 30),
                      0.75 - 0.3 * trend + rng.normal(0, 0.005, 30), 2000),
            }
        )
    )  # fmt: skip
    org = org_pair(table)
    assert not org_pair(table, "A")["flagged"] and not org_pair(table, "B")["flagged"]
    assert org["flagged"] and org["shows_through"] is None
    assert org["productivity_driver_id"] == "A" and org["productivity_driver_share"] > 0.9
    assert org["outcome_driver_id"] == "B" and org["outcome_driver_share"] > 0.9
    assert org["drivers"].startswith("mostly Dept A (")
    assert "of the fall in handle time) and mostly Dept B (" in org["drivers"]
    assert org["drivers"].endswith("of the fall in first-contact resolution)")


def test_shares_follow_the_volume_weights_of_the_organisation_figure():
    # Two departments make the same conflict; the larger carries its volume's share of it.
    rng = np.random.default_rng(5)
    trend = np.clip(np.linspace(-0.3, 1.2, 30), 0, 1)
    make = lambda: (500 - 150 * trend + rng.normal(0, 2, 30),  # noqa: E731
                    0.75 - 0.2 * trend + rng.normal(0, 0.003, 30))  # fmt: skip
    table = kpi_conflicts(organisation({"A": (*make(), 3000), "B": (*make(), 1000)}))
    org = org_pair(table)
    assert org["shows_through"] == "A"
    assert org["productivity_driver_share"] == pytest.approx(0.75, abs=0.05)
    assert org["outcome_driver_share"] == pytest.approx(0.75, abs=0.05)


# --- ex_cx_linkage ---------------------------------------------------------------------------

WAVE_MONTHS = [date(2024 + q // 4, (q % 4) * 3 + 1, 1) for q in range(8)]


def linkage_of(
    empowerment: list[float | None] | None = None,
    responses: int = 20,
    basis: str = "touchpoint",
    answers: int = 60,
    cases: int = 100,
    months: int = 24,
    waves: int = 8,
) -> dict:
    """One unit's ex_cx_linkage row for quarterly waves from January 2024 and `months` months of
    outcomes. Empowerment falls 80% -> 40% by default and the NPS after each wave follows it;
    `answers` a month under 30 withholds the NPS, as int_linkage_outcome_month does."""
    levels = empowerment or list(np.linspace(0.8, 0.4, waves))
    rows = [
        ("D", "Unit", month, "empowerment_index", level, responses if level is not None else 0)
        for month, level in zip(WAVE_MONTHS[:waves], levels, strict=True)
    ]
    rows += [("D", "Unit", m, "engagement_index", 0.7, responses) for m in WAVE_MONTHS[:waves]]
    series = pl.DataFrame(
        rows, orient="row", schema=["department_id", "name", "month", "metric", "value", "n"]
    )
    level_at = dict(zip(WAVE_MONTHS, levels, strict=False))
    outcome_rows = []
    for k in range(months):
        month = date(2024 + k // 12, k % 12 + 1, 1)
        wave = date(month.year, (month.month - 1) // 3 * 3 + 1, 1)
        nps = 100 * (level_at.get(wave) or 0.5) - 30 + (k % 3)
        outcome_rows.append(
            (
                "D",
                month,
                basis,
                cases if basis == "held_cases" else 0,
                answers,
                nps if answers >= 30 else None,
                0 if basis == "held_cases" else 100,
                None if basis == "held_cases" else 0.7,
            )
        )
    outcomes = pl.DataFrame(
        outcome_rows,
        orient="row",
        schema={
            "department_id": pl.String,
            "month": pl.Date,
            "outcome_basis": pl.String,
            "cases_held": pl.Int64,
            "nps_answers": pl.Int64,
            "nps": pl.Float64,
            "fcr_cases": pl.Int64,
            "fcr_rate": pl.Float64,
        },
    )
    return ex_cx_linkage(series, outcomes).row(0, named=True)


def test_a_back_office_is_linked_through_the_nps_of_the_cases_it_held():
    row = linkage_of(basis="held_cases")
    assert (row["outcome_basis"], row["n_waves"], row["supported"]) == ("held_cases", 8, True)
    assert row["nps_following_n"] == 3 * 60 and row["fcr_rate_following"] is None
    assert row["explanation"].startswith(
        "Over 8 survey waves, the NPS of the cases it held in the 1-3 months after each wave rose"
        " and fell with empowerment"
    )
    assert "Pearson" not in row["explanation"], "the statistics are the view's columns"


def test_a_front_line_unit_is_linked_through_its_own_contacts():
    row = linkage_of()
    assert (row["outcome_basis"], row["supported"]) == ("touchpoint", True)
    assert row["explanation"].startswith(
        "Over 8 survey waves, the NPS in the 1-3 months after each wave rose and fell"
    )
    assert "cases it held" not in row["explanation"]


def test_a_back_office_whose_empowerment_held_still_names_the_cases_it_held():
    row = linkage_of([0.6, 0.62, 0.58, 0.61, 0.6, 0.59, 0.62, 0.6], basis="held_cases")
    assert row["supported"] is False
    assert row["explanation"].startswith("No link claimed: empowerment moved only")
    assert "over 8 survey waves" in row["explanation"]
    assert "whether the NPS of the cases it held follows it" in row["explanation"]


@pytest.mark.parametrize(
    ("inputs", "reason"),
    [
        ({"waves": 4}, "4 survey waves so far, and a link needs 6."),
        ({"responses": 4}, "0 of 8 waves had 5 or more employee answers, and a link needs 6."),
        (
            {"empowerment": [None] * 8},
            "8 waves had 5 or more employee answers, but only 0 asked the empowerment questions,"
            " and a link needs 6.",
        ),
        (
            {"answers": 0},
            "8 waves had 5 or more employee answers, but customers rate no contact this unit"
            " handles directly.",
        ),
        (
            {"basis": "held_cases", "cases": 0, "answers": 0},
            "8 waves had 5 or more employee answers, but the unit held no customer cases to"
            " measure them against.",
        ),
        (
            {"basis": "held_cases", "answers": 0},
            "8 waves had 5 or more employee answers, but customers answered no survey on the"
            " 2,400 cases it held.",
        ),
        (
            {"basis": "held_cases", "answers": 24},
            "8 waves had 5 or more employee answers, but only 0 were followed within 1-3 months"
            " by a month of 30 or more NPS answers on the cases it held (the others had at most"
            " 24 a month), and a link needs 6.",
        ),
        (
            {"answers": 12},
            "8 waves had 5 or more employee answers, but only 0 were followed within 1-3 months"
            " by a month of 30 or more NPS answers (the others had at most 12 a month), and a"
            " link needs 6.",
        ),
        (
            {"months": 16},
            "8 waves had 5 or more employee answers, but 3 of them came too recently to be"
            " followed by customer answers, leaving 5, and a link needs 6.",
        ),
        (
            {"empowerment": [0.6] * 8},
            "empowerment was 60% in each of the 8 waves, so nothing could move with it.",
        ),
    ],
    ids=[
        "too-few-waves",
        "too-few-employee-answers",
        "no-empowerment-questions",
        "no-touchpoint-nps",
        "back-office-held-no-cases",
        "held-cases-never-rated",
        "too-few-answers-on-held-cases",
        "too-few-answers-on-contacts",
        "waves-too-recent",
        "empowerment-never-moved",
    ],
)
def test_a_unit_not_assessed_is_told_the_true_reason_with_its_numbers(inputs, reason):
    row = linkage_of(**inputs)
    assert (row["association"], row["supported"]) == (None, False)
    assert row["explanation"] == f"Not assessed: {reason}"


# --- a shift in the mix of channels is not a conflict -----------------------------------------


def two_channels(chat_share: np.ndarray, phone: tuple, chat: tuple) -> tuple:
    """A department's totals and its per-channel rows (metric_channel_month-shaped) for
    handle time and first-contact resolution, from each channel's own series."""
    months = [date(2025 + (m // 12), m % 12 + 1, 1) for m in range(len(chat_share))]
    aht = (1 - chat_share) * phone[0] + chat_share * chat[0]
    fcr = (1 - chat_share) * phone[1] + chat_share * chat[1]
    rows = [
        ("D", channel, month, metric, float(v), int(1000 * w))
        for channel, values, share in (("phone", phone, 1 - chat_share), ("chat", chat, chat_share))
        for metric, series_ in zip(("aht_seconds", "fcr_rate"), values, strict=True)
        for month, v, w in zip(months, series_, share, strict=True)
    ]
    channels = pl.DataFrame(
        rows, orient="row", schema=["department_id", "channel", "month", "metric", "value", "n"]
    )
    return series(aht, fcr), channels


def test_totals_moved_only_by_more_contacts_going_to_chat_are_not_a_conflict():
    rng = np.random.default_rng(8)
    ramp = np.clip(np.linspace(-0.3, 1.2, 30), 0, 1)
    # Chat is faster and resolves less first time; neither channel changes, chat grows.
    phone = (500 + rng.normal(0, 8, 30), 0.78 + rng.normal(0, 0.01, 30))
    chat = (300 + rng.normal(0, 8, 30), 0.58 + rng.normal(0, 0.01, 30))
    totals, channels = two_channels(0.15 + 0.6 * ramp, phone, chat)
    assert pair(kpi_conflicts(totals))["flagged"], "the totals alone look like a conflict"
    row = pair(kpi_conflicts(totals, channels))
    assert not row["flagged"] and row["within_channels"] is False
    assert (
        "only through the mix of channels (chat went from 15% to 74% of contacts)"
        in (row["explanation"])
    )


def test_a_drive_within_the_channels_is_still_a_conflict():
    rng = np.random.default_rng(9)
    ramp = np.clip(np.linspace(-0.3, 1.2, 30), 0, 1)
    phone = (500 - 120 * ramp + rng.normal(0, 8, 30), 0.78 - 0.15 * ramp + rng.normal(0, 0.01, 30))
    chat = (300 - 70 * ramp + rng.normal(0, 8, 30), 0.60 - 0.15 * ramp + rng.normal(0, 0.01, 30))
    totals, channels = two_channels(np.full(30, 0.3), phone, chat)
    row = pair(kpi_conflicts(totals, channels))
    assert row["flagged"] and row["within_channels"] is True
    assert pair(kpi_conflicts(totals))["within_channels"] is None
