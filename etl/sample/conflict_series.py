"""Random organisations' monthly KPI series with planted truth, to measure kpi_conflicts.

Each organisation draws 3 to 12 departments, a window of 24 to 36 months ending in a random
calendar month, and for every department each KPI's level and month-to-month noise. Every
department gets a kind:

- ``conflict``: a productivity drive. One productivity metric improves (15-30%) and one
  customer outcome worsens (2 to 4 times its material change), ramping in over 3 to 9 months.
- ``seasonal``: the same pair moves against each other every year in the same 2 or 3
  calendar months (a busy season), and not otherwise: the decoy that must never flag.
- ``better_both``: the productivity metric and the outcome both improve (a good initiative).
- ``one_metric``: only the productivity metric improves, or only the outcome worsens.
- ``noise``: nothing moves.
- ``channel_mix``: a decoy drawn from the noise departments. Every department serves two
  channels; here chat grows from 15% to 75% of the contacts while chat is faster on one
  productivity metric and worse on one outcome than phone, so the totals move like a
  conflict while nothing changes within either channel.

The organisation's own series (``ALL``) is the departments' mean weighted by their volume n,
as metric_month's organisation figures are. The series
go straight into kpi_conflicts, the function the build runs on metric_month.
benchmarks/kpi_conflicts.py runs hundreds of organisations; docs/methodology.md holds the
measured rates.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from etl.analyses.common import material_change
from etl.analyses.conflicts import kpi_conflicts
from etl.contract.metrics import METRICS

KINDS = ("conflict", "seasonal", "better_both", "one_metric", "noise", "channel_mix")
#: The KPIs an organisation is drawn with, in the order their draws are made. Metrics added
#: since the measured rates of docs/methodology.md (the task volumes, the yes/no recommend
#: share) are not drawn, so a seed keeps giving the same organisation.
SIMULATED = (
    "aht_seconds",
    "contacts_per_hour",
    "occupancy",
    "adherence",
    "cost_per_contact",
    "task_sla_met_rate",
    "training_hours_per_fte",
    "nps",
    "csat",
    "effort",
    "fcr_rate",
    "repeat_contact_rate",
    "promise_kept_rate",
    "case_resolution_hours",
    "enps",
    "engagement_index",
    "empowerment_index",
    "teamwork_index",
)
PRODUCTIVITY = [m for m in SIMULATED if METRICS[m].family == "productivity"]
OUTCOMES = [m for m in SIMULATED if METRICS[m].family == "outcome"]

#: Level (low, high) and month-to-month noise (low, high) per unit; relative noise for
#: figures whose noise scales with their level.
_LEVEL = {
    "seconds": ((250, 700), (0.02, 0.04), True),
    "contacts/hour": ((5, 12), (0.02, 0.04), True),
    "currency": ((3, 10), (0.02, 0.04), True),
    "hours": ((8, 60), (0.03, 0.06), True),
    "share": ((0.6, 0.9), (0.008, 0.02), False),
    "points": ((-10, 50), (2.0, 6.0), False),
    "1-7": ((2.0, 4.0), (0.04, 0.1), False),
}


def _sign(metric: str) -> int:
    return 1 if METRICS[metric].better == "higher" else -1


def _ramp(rng: np.random.Generator, length: int) -> np.ndarray:
    """0 before a random start in the first half, 1 once ramped in over 3 to 9 months."""
    start = int(rng.integers(3, max(4, length // 2)))
    months = int(rng.integers(3, 10))
    return np.clip((np.arange(length) - start) / months, 0, 1)


def organisation(seed: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One organisation's metric_month-shaped series, its truth (one row per department and
    productivity x outcome pair that was planted to move) and its departments' series per
    channel (metric_channel_month-shaped)."""
    rng = np.random.default_rng(seed)
    mix_rng = np.random.default_rng(1_000_000 + seed)  # channels: the other draws stay as they were
    length = int(rng.integers(24, 37))
    first = int(rng.integers(0, 12))
    months = [date(2023 + (first + k) // 12, (first + k) % 12 + 1, 1) for k in range(length)]
    calendar = np.array([m.month for m in months])
    n_departments = int(rng.integers(3, 13))
    common = {m: rng.normal(0, 0.3, length) for m in SIMULATED}  # shared month shocks, in sds
    # Each department's n (its volume) weights it in the organisation's figure.
    volumes = np.maximum(1, np.round(5000 * rng.lognormal(0, 0.7, n_departments))).astype(int)
    rows, truth, by_channel = [], [], []
    for d in range(n_departments):
        department = f"D{d:02d}"
        kind = str(rng.choice(KINDS[:5], p=[0.25, 0.2, 0.1, 0.1, 0.35]))
        if kind == "noise" and mix_rng.random() < 0.4:
            kind = "channel_mix"
        p, o = str(rng.choice(PRODUCTIVITY)), str(rng.choice(OUTCOMES))
        series = {}
        for metric in PRODUCTIVITY + OUTCOMES:
            (low, high), (n_low, n_high), relative = _LEVEL[METRICS[metric].unit]
            level = float(rng.uniform(low, high))
            sd = float(rng.uniform(n_low, n_high)) * (abs(level) if relative else 1.0)
            series[metric] = (level, sd, np.zeros(length))
        move_p = _sign(p) * float(rng.uniform(0.15, 0.30)) * abs(series[p][0])
        move_o = -_sign(o) * float(rng.uniform(2, 4)) * material_change(o, series[o][0])
        if kind == "conflict" or kind == "better_both":
            ramp = _ramp(rng, length)
            series[p][2][:] += move_p * ramp
            series[o][2][:] += (move_o if kind == "conflict" else -move_o) * ramp
        elif kind == "seasonal":
            begin = int(rng.integers(1, 13))
            busy = np.isin(calendar, [(begin + k - 1) % 12 + 1 for k in range(rng.integers(2, 4))])
            series[p][2][:] += move_p * busy
            series[o][2][:] += move_o * busy
        elif kind == "one_metric":
            if rng.random() < 0.5:
                series[p][2][:] += move_p * _ramp(rng, length)
            else:
                series[o][2][:] += move_o * _ramp(rng, length)
        # Two channels. Chat's share stays put, or for a channel_mix decoy ramps up from 15%
        # to 75% while chat is faster on p and worse on o than phone: the department's totals
        # then move like a conflict with nothing changed in either channel.
        chat = np.full(length, mix_rng.uniform(0.1, 0.5))
        offsets = {}
        if kind == "channel_mix":
            chat = 0.15 + 0.6 * _ramp(mix_rng, length)
            offsets[p] = _sign(p) * mix_rng.uniform(0.3, 0.5) * abs(series[p][0])
            offsets[o] = -_sign(o) * mix_rng.uniform(3, 6) * material_change(o, series[o][0])
        for metric, (level, sd, moved) in series.items():
            phone = level + moved + sd * (common[metric] + rng.normal(0, 1, length))
            other = phone - sd * rng_noise(mix_rng, length) + offsets.get(metric, 0.0)
            if METRICS[metric].unit == "share":
                phone, other = np.clip(phone, 0, 1), np.clip(other, 0, 1)
            value = (1 - chat) * phone + chat * other
            rows += [
                (department, f"Dept {department}", month, metric, float(v), volumes[d], None, None)
                for month, v in zip(months, value, strict=True)
            ]
            # Only the metrics whose inputs carry a channel have figures per channel.
            split = (("phone", phone, 1 - chat), ("chat", other, chat))
            for channel, values, share in split if METRICS[metric].by_channel else ():
                by_channel += [
                    (department, channel, month, metric, float(v), int(round(volumes[d] * w)))
                    for month, v, w in zip(months, values, share, strict=True)
                ]
        truth.append(
            {
                "organisation": seed,
                "department_id": department,
                "kind": kind,
                "productivity_metric": p,
                "outcome_metric": o,
                "months": length,
                "last_month": months[-1],
            }
        )
    frame = pl.DataFrame(
        rows,
        orient="row",
        schema=["department_id", "name", "month", "metric", "value", "n", "ci_low", "ci_high"],
    )
    total = (
        frame.group_by("month", "metric")
        .agg(
            ((pl.col("value") * pl.col("n")).sum() / pl.col("n").sum()).alias("value"),
            pl.col("n").sum(),
        )
        .with_columns(
            department_id=pl.lit("ALL"),
            name=pl.lit("the organisation"),
            ci_low=pl.lit(None, dtype=pl.Float64),
            ci_high=pl.lit(None, dtype=pl.Float64),
        )
    )
    frame = pl.concat([frame, total.select(frame.columns)], how="vertical_relaxed")
    channels = pl.DataFrame(
        by_channel,
        orient="row",
        schema=["department_id", "channel", "month", "metric", "value", "n"],
    )
    whole = (
        channels.group_by("channel", "month", "metric")
        .agg(
            ((pl.col("value") * pl.col("n")).sum() / pl.col("n").sum()).alias("value"),
            pl.col("n").sum(),
        )
        .with_columns(department_id=pl.lit("ALL"))
    )
    channels = pl.concat([channels, whole.select(channels.columns)])
    return frame.sort("department_id", "metric", "month"), pl.DataFrame(truth), channels


def rng_noise(rng: np.random.Generator, length: int) -> np.ndarray:
    """A channel's own month-to-month noise, in sds, beside the noise it shares with phone."""
    return rng.normal(0, 0.5, length)


def judge(seed: int) -> pl.DataFrame:
    """Every department pair kpi_conflicts flagged or was planted to flag, with its truth."""
    series, truth, channels = organisation(seed)
    flags = kpi_conflicts(series, channels).select(
        "department_id", "productivity_metric", "outcome_metric", "flagged", "shows_through"
    )
    planted = truth.filter(pl.col("kind") == "conflict").select(
        "department_id", "productivity_metric", "outcome_metric", pl.lit(True).alias("planted")
    )
    kinds = truth.select("department_id", "kind")
    return (
        flags.join(
            planted, on=["department_id", "productivity_metric", "outcome_metric"], how="left"
        )  # fmt: skip
        .join(kinds, on="department_id", how="left")
        .with_columns(
            pl.col("planted").fill_null(False),
            pl.col("kind").fill_null("organisation"),
            pl.lit(seed).alias("organisation"),
        )
        .filter(pl.col("flagged") | pl.col("planted") | (pl.col("department_id") == "ALL"))
    )


def rates(results: pl.DataFrame) -> dict[str, int]:
    """What docs/methodology.md quotes, from judge()'s rows."""
    departments = results.filter(pl.col("department_id") != "ALL")
    planted = departments.filter("planted")
    false = departments.filter(pl.col("flagged") & ~pl.col("planted"))
    conflict_pairs = set(
        planted.select("organisation", "productivity_metric", "outcome_metric").iter_rows()
    )
    organisation = results.filter((pl.col("department_id") == "ALL") & pl.col("flagged"))
    explained = [
        r for r in organisation.iter_rows(named=True)
        if (r["organisation"], r["productivity_metric"], r["outcome_metric"]) in conflict_pairs
    ]  # fmt: skip
    planted_units = set(
        planted.select(
            "organisation", "department_id", "productivity_metric", "outcome_metric"
        ).iter_rows()
    )
    through = [r for r in organisation.iter_rows(named=True) if r["shows_through"] is not None]
    rightly = [
        r for r in through
        if (r["organisation"], r["shows_through"], r["productivity_metric"],
            r["outcome_metric"]) in planted_units
    ]  # fmt: skip
    return {
        "organisations": results["organisation"].n_unique(),
        "planted": planted.height,
        "found": planted.filter("flagged").height,
        "false_department_flags": false.height,
        "false_in_seasonal": false.filter(pl.col("kind") == "seasonal").height,
        "false_in_channel_mix": false.filter(pl.col("kind") == "channel_mix").height,
        "organisations_with_a_false_flag": false["organisation"].n_unique(),
        "organisation_flags": organisation.height,
        "organisation_flags_explained": len(explained),
        "organisation_flags_showing_through": len(through),
        "showing_through_the_planted_department": len(rightly),
    }
