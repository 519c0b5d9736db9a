"""Seeded generator of two years of a mid-size business, written in the contract's file format.

The stories planted here (PLANTED) are what the analyses must find, and only those:
a productivity/outcome conflict, a watermelon back office, a fading initiative, a decoy that
improves on both sides, a tiny department and support units with no customer link.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from etl import files
from etl.contract.sources import SOURCES
from etl.sample import comments

#: The sample's months: MONTHS months ending with October 2026 (END is the day after).
END = date(2026, 11, 1)
MONTHS = 24
SEED = 20261123
#: Interactions per year at the default scale.
BASE_INTERACTIONS_PER_YEAR = 400_000
#: Interactions per year the department volumes below produce at factor 1.
_VOLUME_AT_FACTOR_1 = 110_000
#: Agents are sized so that handling time fills about this share of logged-in time at the start.
STAFFING_OCCUPANCY = 0.8
#: Back-office minutes of work per case task.
TASK_MINUTES = 25
#: Hours a front-line agent promises for a call-back after handing a case to the back office.
PROMISE_HOURS = 48
#: A transfer loop between two front-line units: on every TRANSFER_LOOP_EVERY-th case that
#: comes back without a hand-off, each unresolved contact of one unit transfers the customer
#: to the other, who is never taken up, and the customer's next contact is back where it
#: started. Only the transfer column changes (no figure reads it), so no other figure moves.
TRANSFER_LOOP = ("TEC", "SAL")
TRANSFER_LOOP_EVERY = 3
_TS = "%Y-%m-%dT%H:%M:%S"


@dataclass(frozen=True)
class Dept:
    """A sample department and the knobs that shape its data."""

    id: str
    name: str
    function: str
    headcount: int
    cases_per_month: int = 0
    aht: tuple[float, float] = (420, 420)
    fcr: tuple[float, float] = (0.70, 0.70)
    handoff_to: tuple[str, ...] = ()  # back offices it hands cases to, equally often
    handoff_share: float = 0.0
    task_hours: float = 0.0
    sla_hours: float = 0.0
    nps_offset: float = 0.0
    empowerment: tuple[float, float] = (3.7, 3.7)


DEPARTMENTS = (
    Dept(
        "RET",
        "Retail Line",
        "frontline",
        40,
        2100,
        (430, 425),
        (0.70, 0.70),
        ("CLM", "FUL", "COM"),
        0.30,
    ),
    Dept(
        "BIL",
        "Billing",
        "frontline",
        36,
        1900,
        (540, 335),
        (0.74, 0.50),
        ("ACC",),
        0.25,
        nps_offset=0.4,
        empowerment=(3.9, 2.9),
    ),
    Dept(
        "TEC",
        "Technical Support",
        "frontline",
        30,
        1500,
        (600, 590),
        (0.70, 0.70),
        ("COM", "ACC"),
        0.30,
    ),
    Dept("SAL", "Sales", "frontline", 22, 1000, (380, 380), (0.71, 0.71), ("FUL", "CLM"), 0.30),
    Dept("DIG", "Digital Support", "frontline", 18, 900, (420, 330), (0.62, 0.70), ("FUL",), 0.25),
    Dept("RTN", "Retention", "frontline", 14, 600, (480, 480), (0.68, 0.68), ("ACC", "COM"), 0.25),
    Dept(
        "EXE", "Executive Escalations", "frontline", 3, 4, (900, 900), (0.55, 0.55), ("COM",), 0.5
    ),
    Dept("CLM", "Claims Processing", "back_office", 20, task_hours=80, sla_hours=120),
    Dept("FUL", "Fulfilment", "back_office", 18, task_hours=22, sla_hours=48),
    Dept("ACC", "Account Maintenance", "back_office", 15, task_hours=24, sla_hours=48),
    Dept("COM", "Complaints", "back_office", 8, task_hours=23, sla_hours=48),
    Dept("WFM", "Workforce Planning", "support", 6),
    Dept("QAT", "Quality Assurance", "support", 5),
)

#: The majority-bad back office variant: beside Claims, Fulfilment holds cases past the
#: promised call-back under a generous SLA (a second watermelon) and Account Maintenance is slow
#: and misses its SLA (destroys value); only Complaints works as before.
MAJORITY_BAD = {
    "FUL": Dept("FUL", "Fulfilment", "back_office", 18, task_hours=90, sla_hours=200),
    "ACC": Dept("ACC", "Account Maintenance", "back_office", 15, task_hours=70, sla_hours=36),
}
MAJORITY_BAD_VERDICTS = {"CLM": "watermelon", "FUL": "watermelon", "ACC": "destroys_value"}

#: Initiative on RTN's first-contact resolution: lifts for two months, then fades.
FADING = ("INI-01", "Retention first-call coaching", "RTN", date(2025, 9, 1), "fcr_rate")
#: Initiative on DIG: the decoy's steady improvement (both productivity and outcome improve).
DURABLE = ("INI-02", "Digital self-service redesign", "DIG", date(2025, 3, 1), "fcr_rate")
HANDLE_TIME_DRIVE = ("INI-03", "Billing handle-time drive", "BIL", date(2025, 6, 1), "aht_seconds")
#: First-contact resolution added by the durable initiative from its start month, for good.
DURABLE_STEP = 0.08

#: Billing's productivity measures that improve, and the outcomes that worsen with them.
_BILLING_PRODUCTIVITY = ("aht_seconds", "contacts_per_hour", "cost_per_contact")
_BILLING_OUTCOMES = ("nps", "csat", "effort", "fcr_rate", "repeat_contact_rate")

#: What the analyses must find in the sample, completely: anything else is a false finding.
PLANTED = {
    "conflict_department": "BIL",
    "conflict_pairs": {(p, o) for p in _BILLING_PRODUCTIVITY for o in _BILLING_OUTCOMES},
    "core_conflict_pairs": {("aht_seconds", "fcr_rate"), ("aht_seconds", "nps")},
    # Billing is a quarter of all contacts: the organisation as a whole shows its handle-time
    # conflict too ("handle time fell 10% while NPS fell 6 points").
    "organisation_conflict_pairs": {("aht_seconds", "fcr_rate"), ("aht_seconds", "nps")},
    "watermelon_department": "CLM",
    # Every department not listed is neutral. Billing's verdict follows from its conflict.
    "verdicts": {
        "BIL": "destroys_value",  # in noisier variants it may only reach neutral
        "CLM": "watermelon",
        "EXE": "insufficient_data",
        "WFM": "no_customer_link",
        "QAT": "no_customer_link",
    },
    "durable": {FADING[0]: False, DURABLE[0]: True, HANDLE_TIME_DRIVE[0]: True},
    "fading_initiative": FADING[0],
    "durable_initiative": DURABLE[0],
    "decoy_department": "DIG",
    "tiny_department": "EXE",
    "no_customer_link": {"WFM", "QAT"},
    "empowerment_linked": {"BIL"},
    # Failure demand: every contact after a case's first. Front-line units cause their own
    # repeats (Billing most, as its first contacts resolve less), the back office a case was
    # handed to causes the chases and broken-promise calls on it (Claims most), and the two
    # units of the loop cause the transfer bounces. No support unit causes or receives any.
    "transfer_loop": set(TRANSFER_LOOP),
    "most_repeats": "BIL",
    "most_chases": "CLM",
}


def parse_scale(text: str | float | int | None) -> float:
    """Interactions per year from '130k', '1M', '10M' or a number."""
    if text is None:
        return BASE_INTERACTIONS_PER_YEAR
    if isinstance(text, int | float):
        return float(text)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kKmM]?)\s*", text)
    if not match:
        raise ValueError(f"scale '{text}' is not a number like 130k, 1M or 10M")
    factor = {"": 1, "k": 1e3, "m": 1e6}[match.group(2).lower()]
    return float(match.group(1)) * factor


def frames(
    scale: str | float | None = None,
    seed: int = SEED,
    noise: float = 1.0,
    months: int = MONTHS,
    majority_bad: bool = False,
) -> dict[str, pl.DataFrame]:
    """Every source as a typed frame. noise scales the random variation (1 = the default);
    months is how many months of data, ending with October 2026 (at least 12); majority_bad
    makes three of the four back offices bad (MAJORITY_BAD)."""
    if months < 12:
        raise ValueError(f"months must be at least 12, not {months}")
    factor = parse_scale(scale) / _VOLUME_AT_FACTOR_1
    departments = tuple(MAJORITY_BAD.get(d.id, d) for d in DEPARTMENTS) if majority_bad else None
    generator = _Generator(
        np.random.default_rng(seed), factor, noise, months, departments or DEPARTMENTS
    )
    data = generator.run()
    data["nps_responses"] = comments.add(data["nps_responses"], seed, generator.ids.index("CLM"))
    return data


def generate(
    out: Path,
    scale: str | float | None = None,
    seed: int = SEED,
    noise: float = 1.0,
    months: int = MONTHS,
) -> dict[str, int]:
    """Write every source's files under out/<source>/; the number of rows written per source."""
    counts = {}
    for name, frame in frames(scale, seed, noise, months).items():
        counts[name] = frame.height
        _write(out, name, frame)
    return counts


def _write(out: Path, name: str, frame: pl.DataFrame) -> None:
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    period = {
        "interactions": "started_at",
        "case_tasks": "opened_at",
        "workforce": "work_date",
        "nps_responses": "responded_at",
        "engagement_responses": "wave",
    }.get(name)
    if period is None:
        with files.open_new(folder / f"{name}.csv") as handle:
            frame.write_csv(handle, datetime_format=_TS)
        return
    keyed = frame.with_columns(pl.col(period).dt.strftime("%Y-%m").alias("_file"))
    for (month,), part in keyed.partition_by("_file", as_dict=True).items():
        with files.open_new(folder / f"{month}.csv") as handle:
            part.drop("_file").write_csv(handle, datetime_format=_TS)


def _month_starts(months: int) -> list[datetime]:
    """The first day of each month, and of the month after the last."""
    first = END.year * 12 + END.month - 1 - months
    return [datetime((first + i) // 12, (first + i) % 12 + 1, 1) for i in range(months + 1)]


def _epoch(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


class _Generator:
    """Builds every source as Polars frames, vectorised over cases."""

    def __init__(
        self,
        rng: np.random.Generator,
        factor: float,
        noise: float = 1.0,
        months: int = MONTHS,
        departments: tuple[Dept, ...] = DEPARTMENTS,
    ):
        self.departments = departments
        self.rng = rng
        self.factor = factor
        self.noise = noise
        self.months = _month_starts(months)
        self.start = self.months[0].date()
        self.end = _epoch(self.months[-1])
        self.ids = [d.id for d in self.departments]

    def run(self) -> dict[str, pl.DataFrame]:
        cases = self._cases()
        interactions = self._interactions(cases)
        tasks = self._tasks(cases)
        self.agents = self._staffing(interactions, tasks)
        interactions = self._assign_agents(interactions)
        return {
            "departments": self._departments(),
            "interactions": interactions,
            "case_tasks": tasks,
            "workforce": self._workforce(interactions),
            "nps_responses": self._nps(cases),
            "engagement_responses": self._engagement(),
            "kpi_targets": self._targets(),
            "initiatives": pl.DataFrame(
                [FADING, DURABLE, HANDLE_TIME_DRIVE],
                orient="row",
                schema=SOURCES["initiatives"].column_names,
            ),
        }

    def _staffing(self, interactions: pl.DataFrame, tasks: pl.DataFrame) -> dict[str, int]:
        """Agents per department, sized on the first quarter's workload."""
        first_quarter = _epoch(self.months[3])
        minutes = dict(
            interactions.filter(
                pl.col("started_at") < pl.from_epoch(pl.lit(first_quarter), time_unit="s")
            )
            .group_by("department_id")
            .agg(pl.col("handle_seconds").sum() / 60 / 3)
            .iter_rows()
        )
        task_counts = (
            tasks.filter(pl.col("opened_at") < pl.from_epoch(pl.lit(first_quarter), time_unit="s"))
            .group_by("department_id")
            .len()
        )
        for dept_id, count in task_counts.iter_rows():
            minutes[dept_id] = count * TASK_MINUTES / 3
        capacity = 21.7 * 452 * STAFFING_OCCUPANCY
        return {
            d.id: max(1, math.ceil(minutes.get(d.id, 0) / capacity))
            if d.id in minutes
            else d.headcount
            for d in self.departments
        }

    def _headcount(self, dept: Dept) -> int:
        """Employees: agents plus team leads and specialists (the tiny unit stays tiny)."""
        if dept.id == PLANTED["tiny_department"]:
            return dept.headcount
        return round(self.agents[dept.id] * 1.3) + 4

    def _assign_agents(self, interactions: pl.DataFrame) -> pl.DataFrame:
        agents = interactions["department_id"].replace_strict(self.agents, return_dtype=pl.Int64)
        number = (pl.Series(self.rng.random(interactions.height)) * agents).cast(pl.Int64) + 1
        return interactions.with_columns(
            pl.format("{}-{}", "department_id", number.cast(pl.String).str.zfill(4)).alias(
                "agent_id"
            )
        )

    def _departments(self) -> pl.DataFrame:
        rows = [(d.id, d.name, d.function, self._headcount(d)) for d in self.departments]
        return pl.DataFrame(rows, orient="row", schema=SOURCES["departments"].column_names)

    def _cases(self) -> pl.DataFrame:
        """One row per case with its story: first contact, resolution, hand-off and promise."""
        rng = self.rng
        parts = []
        for d_index, dept in enumerate(self.departments):
            if not dept.cases_per_month:
                continue
            for t in range(len(self.months) - 1):
                season = 1 + 0.08 * math.sin(2 * math.pi * (self.months[t].month - 1) / 12)
                n = rng.poisson(dept.cases_per_month * season * self.factor)
                start, stop = _epoch(self.months[t]), _epoch(self.months[t + 1])
                days = rng.integers(0, (stop - start) // 86400, n)
                seconds = start + days * 86400 + rng.integers(8 * 3600, 20 * 3600, n)
                progress = t / (len(self.months) - 2)
                fcr = self._fcr(dept, t, progress)
                aht = dept.aht[0] + (dept.aht[1] - dept.aht[0]) * progress
                parts.append(
                    pl.DataFrame(
                        {
                            "dept": np.full(n, d_index, dtype=np.int32),
                            "month": np.full(n, t, dtype=np.int32),
                            "start": seconds,
                            "resolved_first": rng.random(n) < fcr,
                            "handle": np.maximum(
                                20, rng.lognormal(math.log(aht) - 0.08, 0.4, n)
                            ).astype(int),
                            "u_handoff": rng.random(n),
                            "drift": np.full(n, progress),
                        }
                    )
                )
        cases = pl.concat(parts).with_row_index("case_no")
        n = cases.height
        handoff_share = np.array([d.handoff_share for d in self.departments])[
            cases["dept"].to_numpy()
        ]
        handoff = (~cases["resolved_first"].to_numpy()) & (
            cases["u_handoff"].to_numpy() < handoff_share / 0.35
        )
        extra = np.where(cases["resolved_first"].to_numpy() | handoff, 0, 1 + rng.poisson(0.35, n))
        # A few first-contact resolutions still come back (the 7-day rule catches them).
        extra = np.where(cases["resolved_first"].to_numpy() & (rng.random(n) < 0.04), 1, extra)
        cases = cases.with_columns(
            pl.Series("handoff", handoff),
            pl.Series("extra", extra),
            pl.Series("customer", rng.integers(1, max(2, int(n * 0.9)), n)),
        )
        return self._handoffs(cases)

    def _fcr(self, dept: Dept, t: int, progress: float) -> float:
        fcr = dept.fcr[0] + (dept.fcr[1] - dept.fcr[0]) * progress
        if dept.id == DURABLE[2] and self.months[t].date() >= DURABLE[3]:
            fcr += DURABLE_STEP
        if dept.id == FADING[2]:
            since = (self.months[t].date().year - FADING[3].year) * 12 + (
                self.months[t].date().month - FADING[3].month
            )
            fcr += {0: 0.13, 1: 0.12, 2: 0.06, 3: 0.02}.get(since, 0.0)
        return fcr + self.rng.normal(0, 0.01 * self.noise)

    def _handoffs(self, cases: pl.DataFrame) -> pl.DataFrame:
        """Back-office task times, the promised call-back and whether the promise was kept."""
        rng = self.rng
        n = cases.height
        # Which back office: the hand-off draw itself, spread over [0, 1) (no draw of its own, so
        # the rest of the sample's random stream is as it was before cases had a choice).
        share = np.array([d.handoff_share for d in self.departments])[cases["dept"].to_numpy()]
        choice = np.minimum(cases["u_handoff"].to_numpy() / (share / 0.35 + 1e-12), 0.999999)
        target = np.full(n, -1)
        for i, dept in enumerate(self.departments):
            mask = cases["dept"].to_numpy() == i
            for k, to in enumerate(dept.handoff_to):
                share = (choice >= k / len(dept.handoff_to)) & (
                    choice < (k + 1) / len(dept.handoff_to)
                )
                target[mask & share] = self.ids.index(to)
        hours = np.array(
            [self.departments[i].task_hours if i >= 0 else 0 for i in range(len(self.ids))] + [0.0]
        )[target]
        opened = cases["start"].to_numpy() + cases["handle"].to_numpy() + rng.integers(600, 7200, n)
        duration = (rng.lognormal(np.log(np.maximum(hours, 1)), 0.3, n) * 3600).astype(np.int64)
        closed = opened + duration
        due = cases["start"].to_numpy() + PROMISE_HOURS * 3600
        never = rng.random(n) < 0.05
        done = np.where(never, -1, closed + rng.integers(1800, 6 * 3600, n))
        is_open = closed > self.end
        done = np.where(is_open | (done > self.end), -1, done)
        broken = (done < 0) | (done > due)
        chase = cases["handoff"].to_numpy() & broken & (rng.random(n) < 0.55)
        return cases.with_columns(
            pl.Series("target", target),
            pl.Series("opened", opened),
            pl.Series("closed", np.where(is_open, -1, closed)),
            pl.Series("due", due),
            pl.Series("done", done),
            pl.Series("broken", cases["handoff"].to_numpy() & broken),
            pl.Series("chase_at", np.where(chase, due + rng.integers(3600, 48 * 3600, n), -1)),
        )

    def _interactions(self, cases: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng
        first = cases.select(
            "case_no",
            "dept",
            "customer",
            pl.col("start").alias("at"),
            "handle",
            pl.col("resolved_first").alias("resolved"),
            pl.lit(0).alias("seq"),
            pl.when("handoff").then("target").otherwise(-1).alias("transfer"),
            pl.when("handoff").then("due").otherwise(-1).alias("due"),
            pl.when("handoff").then("done").otherwise(-1).alias("done"),
        )
        repeats = cases.filter(pl.col("extra") > 0).select(
            "case_no", "dept", "customer", "start", "handle", "extra"
        )
        repeats = repeats.select(pl.all().repeat_by("extra").explode()).with_columns(
            pl.int_range(pl.len()).over("case_no").alias("seq") + 1
        )
        gaps = (rng.uniform(0.3, 4.5, repeats.height) * 86400).astype(np.int64)
        repeats = (
            repeats.with_columns(pl.Series("gap", gaps))
            .with_columns(
                (pl.col("start") + pl.col("gap").cum_sum().over("case_no")).alias("at"),
                (pl.col("handle") * 0.8).cast(pl.Int64).alias("handle"),
                (pl.col("seq") == pl.col("extra")).alias("resolved"),
                pl.lit(-1).alias("transfer"),
                pl.lit(-1).alias("due"),
                pl.lit(-1).alias("done"),
            )
            .select(first.columns)
        )
        chases = cases.filter(pl.col("chase_at") > 0).select(
            "case_no",
            "dept",
            "customer",
            pl.col("chase_at").alias("at"),
            (pl.col("handle") * 0.6).cast(pl.Int64).alias("handle"),
            pl.lit(False).alias("resolved"),
            pl.lit(99).alias("seq"),
            pl.lit(-1).alias("transfer"),
            pl.lit(-1).alias("due"),
            pl.lit(-1).alias("done"),
        )
        rows = self._transfer_loop(
            pl.concat([first, repeats, chases], how="vertical_relaxed")
            .filter(pl.col("at") < self.end)
            .sort("at", "case_no", "seq")
        )
        channels = np.array(["phone", "chat", "email", "social", "branch"])
        weights = {"DIG": [0.1, 0.75, 0.1, 0.05, 0.0], "RET": [0.55, 0.1, 0.1, 0.05, 0.2]}
        channel = np.empty(rows.height, dtype=object)
        dept_codes = rows["dept"].to_numpy()
        for i, dept in enumerate(self.departments):
            mask = dept_codes == i
            channel[mask] = rng.choice(
                channels, mask.sum(), p=weights.get(dept.id, [0.7, 0.15, 0.1, 0.05, 0.0])
            )
        mapping = dict(enumerate(self.ids))
        return rows.with_row_index("n").select(
            pl.format("I{}", pl.col("n").cast(pl.String).str.zfill(9)).alias("interaction_id"),
            pl.from_epoch("at", time_unit="s").alias("started_at"),
            pl.col("dept").replace_strict(mapping, return_dtype=pl.String).alias("department_id"),
            pl.col("handle").clip(5).alias("handle_seconds"),
            pl.format("K{}", pl.col("case_no").cast(pl.String).str.zfill(8)).alias("case_id"),
            pl.format("C{}", pl.col("customer").cast(pl.String).str.zfill(8)).alias("customer_id"),
            pl.Series("channel", channel.astype(str)),
            pl.lit(None, dtype=pl.String).alias("agent_id"),
            pl.Series("wait_seconds", rng.gamma(1.5, 40, rows.height).astype(int)),
            pl.col("resolved"),
            pl.when(pl.col("transfer") >= 0)
            .then(pl.col("transfer").replace_strict(mapping, default=None, return_dtype=pl.String))
            .alias("transferred_to"),
            pl.when(pl.col("due") > 0)
            .then(pl.from_epoch("due", time_unit="s"))
            .alias("follow_up_due_at"),
            pl.when(pl.col("done") > 0)
            .then(pl.from_epoch("done", time_unit="s"))
            .alias("follow_up_done_at"),
        )

    def _transfer_loop(self, rows: pl.DataFrame) -> pl.DataFrame:
        """TRANSFER_LOOP's transfers, chosen by case number, not by a draw: the random stream
        (and so every other figure of the sample) is as it was without them."""
        one, other = (self.ids.index(d) for d in TRANSFER_LOOP)
        looped = (
            pl.col("dept").is_in([one, other])
            & (pl.col("transfer") < 0)
            & ~pl.col("resolved")
            & (pl.col("seq") != 99)
            & (pl.col("case_no") % TRANSFER_LOOP_EVERY == 0)
            & pl.col("at").shift(-1).over("case_no", order_by=["at", "seq"]).is_not_null()
        )
        partner = pl.when(pl.col("dept") == one).then(other).otherwise(one)
        return rows.with_columns(
            pl.when(looped).then(partner).otherwise(pl.col("transfer")).alias("transfer")
        )

    def _tasks(self, cases: pl.DataFrame) -> pl.DataFrame:
        handed = cases.filter(pl.col("handoff") & (pl.col("opened") < self.end))
        sla = {i: d.sla_hours for i, d in enumerate(self.departments)}
        mapping = dict(enumerate(self.ids))
        return handed.with_row_index("n").select(
            pl.format("T{}", pl.col("n").cast(pl.String).str.zfill(8)).alias("task_id"),
            pl.format("K{}", pl.col("case_no").cast(pl.String).str.zfill(8)).alias("case_id"),
            pl.col("target").replace_strict(mapping, return_dtype=pl.String).alias("department_id"),
            pl.from_epoch("opened", time_unit="s").alias("opened_at"),
            pl.when(pl.col("closed") > 0)
            .then(pl.from_epoch("closed", time_unit="s"))
            .alias("closed_at"),
            pl.col("target").replace_strict(sla, return_dtype=pl.Float64).alias("sla_hours"),
        )

    def _nps(self, cases: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng
        picked = cases.filter(pl.Series(rng.random(cases.height) < 0.18))
        n = picked.height
        offsets = np.array([d.nps_offset for d in self.departments])[picked["dept"].to_numpy()]
        bil = np.array([d.id == "BIL" for d in self.departments])[picked["dept"].to_numpy()]
        fcr = picked["resolved_first"].to_numpy() & (picked["extra"].to_numpy() == 0)
        mean = (
            7.0
            + 1.4 * fcr
            - 0.9 * np.minimum(picked["extra"].to_numpy(), 3)
            - 3.2 * picked["broken"].to_numpy()
            + offsets
            - 0.9 * bil * picked["drift"].to_numpy()
        )
        score = np.clip(np.rint(mean + rng.normal(0, 1.7 * self.noise, n)), 0, 10).astype(int)
        csat = np.clip(np.rint(1 + score * 0.4 + rng.normal(0, 0.6, n)), 1, 5).astype(int)
        effort = np.clip(np.rint(7 - score * 0.5 + rng.normal(0, 1.0, n)), 1, 7).astype(int)
        last = np.maximum(picked["start"].to_numpy(), picked["done"].to_numpy())
        answered = last + rng.integers(2 * 3600, 96 * 3600, n)
        mapping = dict(enumerate(self.ids))
        frame = picked.with_columns(
            pl.Series("answered", answered),
            pl.Series("score", score),
            pl.Series("csat", csat),
            pl.Series("effort", effort),
        )
        return (
            frame.filter(pl.col("answered") < self.end)
            .with_row_index("n")
            .select(
                pl.format("R{}", pl.col("n").cast(pl.String).str.zfill(8)).alias("response_id"),
                pl.from_epoch("answered", time_unit="s").alias("responded_at"),
                pl.format("C{}", pl.col("customer").cast(pl.String).str.zfill(8)).alias(
                    "customer_id"
                ),
                pl.format("K{}", pl.col("case_no").cast(pl.String).str.zfill(8)).alias("case_id"),
                pl.col("dept")
                .replace_strict(mapping, return_dtype=pl.String)
                .alias("department_id"),
                "score",
                "csat",
                "effort",
                pl.struct("broken", "extra", "target").alias(comments.STORY),
            )
        )

    def _workforce(self, interactions: pl.DataFrame) -> pl.DataFrame:
        rng = self.rng
        handled = interactions.group_by(
            "department_id", pl.col("started_at").dt.truncate("1mo").alias("month")
        ).agg((pl.col("handle_seconds").sum() / 60).alias("handle_minutes"))
        days = pl.date_range(self.start, self.months[-1].date(), "1d", closed="left", eager=True)
        days = days.filter(days.dt.weekday() <= 5)
        rostered = self._rostered(handled, days)
        part_time = self._part_time(handled, days)
        parts = []
        for dept in self.departments:
            agents = max([self.agents[dept.id], *rostered.get(dept.id, {}).values()])
            grid = pl.DataFrame({"work_date": days}).join(
                pl.DataFrame({"agent": np.arange(1, agents + 1)}), how="cross"
            )
            if dept.id in rostered:
                # Workforce management rosters front-line agents to the month's workload.
                needed = (
                    grid["work_date"]
                    .dt.strftime("%Y-%m")
                    .replace_strict(
                        rostered[dept.id], default=self.agents[dept.id], return_dtype=pl.Int64
                    )
                )
                grid = grid.filter(grid["agent"] <= needed)
            grid = grid.filter(pl.Series(rng.random(grid.height) > 0.06))
            n = grid.height
            logged = np.rint(rng.normal(452, 14, n)).clip(240, 520)
            # A desk whose month's contacts fill less than one agent's day is staffed part time:
            # its agent logs in for that share of the day, not a full day beside 14 cases a
            # month (which read as 2% occupancy). Scaled after the draws: the stream is as before.
            part = (
                grid["work_date"]
                .dt.strftime("%Y-%m")
                .replace_strict(part_time.get(dept.id, {}), default=1.0, return_dtype=pl.Float64)
                .to_numpy()
            )
            logged = np.maximum(1.0, np.rint(logged * part))
            training = np.where(rng.random(n) < 0.05, rng.choice([60, 90, 120], n), 0)
            parts.append(
                grid.with_columns(
                    pl.lit(dept.id).alias("department_id"),
                    pl.format(
                        "{}-{}", pl.lit(dept.id), pl.col("agent").cast(pl.String).str.zfill(4)
                    ).alias("agent_id"),
                    pl.Series("logged_in_minutes", logged),
                    pl.lit(480.0).alias("scheduled_minutes"),
                    pl.Series("adherent_minutes", np.rint(480 * rng.uniform(0.86, 0.97, n))),
                    pl.Series("training_minutes", training.astype(float)),
                    pl.Series("cost", np.round(rng.normal(210, 12, n), 2)),
                    pl.Series("share", rng.uniform(0.8, 1.2, n)),
                    pl.lit(dept.function).alias("function"),
                )
            )
        grid = pl.concat(parts)
        grid = grid.with_columns(
            pl.col("work_date").dt.truncate("1mo").cast(pl.Datetime("us")).alias("month")
        )
        grid = grid.join(handled, on=["department_id", "month"], how="left")
        weight = pl.col("share") * pl.col("logged_in_minutes")
        frontline = pl.col("handle_minutes") * weight / weight.sum().over("department_id", "month")
        back_office = pl.col("logged_in_minutes") * 0.72 * pl.col("share")
        handling = (
            pl.when(pl.col("function") == "frontline")
            .then(frontline)
            .when(pl.col("function") == "back_office")
            .then(back_office)
        )
        capped = pl.min_horizontal(handling, pl.col("logged_in_minutes") * 0.97)
        return grid.with_columns(
            pl.when(handling.is_not_null()).then(capped.round(1)).alias("handling_minutes")
        ).select(SOURCES["workforce"].column_names)

    def _part_time(self, handled: pl.DataFrame, days: pl.Series) -> dict[str, dict[str, float]]:
        """Share of a day a front-line desk's one agent is logged in, per month, where the
        month's contacts fill less than one agent at the staffing occupancy."""
        weekdays = dict(days.dt.strftime("%Y-%m").value_counts().iter_rows())
        frontline = {d.id for d in self.departments if d.function == "frontline"}
        shares: dict[str, dict[str, float]] = {}
        for dept_id, month, minutes in handled.iter_rows():
            key = month.strftime("%Y-%m")
            capacity = weekdays.get(key, 21) * 452 * 0.94 * STAFFING_OCCUPANCY
            if dept_id in frontline and minutes < capacity:
                shares.setdefault(dept_id, {})[key] = max(minutes / capacity, 0.001)
        return shares

    def _rostered(self, handled: pl.DataFrame, days: pl.Series) -> dict[str, dict[str, int]]:
        """Front-line agents needed per month to handle its contacts at the staffing occupancy."""
        weekdays = dict(days.dt.strftime("%Y-%m").value_counts().iter_rows())
        frontline = {d.id for d in self.departments if d.function == "frontline"}
        rostered: dict[str, dict[str, int]] = {}
        for dept_id, month, minutes in handled.iter_rows():
            if dept_id in frontline:
                key = month.strftime("%Y-%m")
                capacity = weekdays.get(key, 21) * 452 * 0.94 * STAFFING_OCCUPANCY
                rostered.setdefault(dept_id, {})[key] = max(1, math.ceil(minutes / capacity))
        return rostered

    def _engagement(self) -> pl.DataFrame:
        rng = self.rng
        waves = [date(2025 + (q * 3) // 12, (q * 3) % 12 + 1, 1) for q in range(8)]
        rows = []
        for w_index, wave in enumerate(waves):
            progress = w_index / (len(waves) - 1)
            for dept in self.departments:
                level = dept.empowerment[0] + (dept.empowerment[1] - dept.empowerment[0]) * min(
                    1.0, progress * 1.4
                )  # the employee story runs ahead of the customer one
                n = rng.binomial(self._headcount(dept), 0.75)
                answers = {
                    item: np.clip(
                        np.rint(rng.normal(level + shift, 0.9 * self.noise, n)), 1, 5
                    ).astype(int)
                    for item, shift in (
                        ("q_engaged", 0.1),
                        ("q_empowered", 0.0),
                        ("q_time", -0.2),
                        ("q_tools", 0.1),
                        ("q_teamwork", 0.0),
                    )
                }
                enps = np.clip(np.rint(rng.normal(level * 2.0, 1.8, n)), 0, 10).astype(int)
                teams = rng.integers(1, 4, n)
                for i in range(n):
                    rows.append(
                        (
                            wave,
                            dept.id,
                            f"{dept.id}-T{teams[i]}",
                            int(enps[i]),
                            *(int(a[i]) for a in answers.values()),
                        )
                    )
        frame = pl.DataFrame(
            rows,
            orient="row",
            schema=[
                "wave",
                "department_id",
                "team",
                "enps_score",
                "q_engaged",
                "q_empowered",
                "q_time",
                "q_tools",
                "q_teamwork",
            ],
        )
        return frame.with_row_index("n").select(
            pl.format("E{}", pl.col("n").cast(pl.String).str.zfill(7)).alias("response_id"),
            pl.all().exclude("n"),
        )

    def _targets(self) -> pl.DataFrame:
        rows = [
            ("*", "nps", 30.0, self.start),
            ("*", "fcr_rate", 0.70, self.start),
            ("BIL", "aht_seconds", 480.0, self.start),
            ("BIL", "aht_seconds", 360.0, date(2025, 6, 1)),
        ]
        for dept in self.departments:
            if dept.function == "back_office":
                rows.append((dept.id, "task_sla_met_rate", 0.85, self.start))
            elif dept.function == "frontline" and dept.id != "BIL":
                rows.append((dept.id, "aht_seconds", dept.aht[0] * 1.05, self.start))
        return pl.DataFrame(rows, orient="row", schema=SOURCES["kpi_targets"].column_names)


def main() -> None:
    """python -m etl.sample.bundled --out DIR [--scale 10M] [--seed N]"""
    import argparse

    parser = argparse.ArgumentParser(description="Write the seeded sample exports.")
    parser.add_argument("--out", type=Path, default=Path("data/sample"))
    parser.add_argument("--scale", default=None, help="interactions per year: 400k, 1M, 10M")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    counts = generate(args.out, args.scale, args.seed)
    for name, rows in counts.items():
        print(f"{args.out / name}: {rows:,} rows")


if __name__ == "__main__":
    main()
