"""Random organisations with their truth recorded, to measure the analyses' error rates.

Nothing here is tuned to the bundled sample: each organisation draws its own functions (3 to 15
front-line units, 2 to 15 back offices, sometimes a majority of them bad), volumes (tiny units
included), channels, case routing, promises and survey habits. Every unit gets a kind:

- ``fine``: ordinary work; ``case_mix``: ordinary work on a harder mix of cases (a front-line
  unit on worse channels, a back office fed by the weakest front-line units);
- ``adds_value``: better work; ``destroys_value``: worse work while missing its own targets;
- ``watermelon``: worse for customers while meeting its own targets (a back office with a
  generous SLA that holds cases past the promised call-back).

A unit's true gap is counterfactual: the NPS its answered cases got, minus the NPS the same
cases would have got, with the same random draws, had the unit been ``fine``. The frames go
straight into the raw tables (no CSV files) and are built by the same models as a real load.
benchmarks/department_value.py runs hundreds of organisations; docs/methodology.md holds the
confusion matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import numpy as np
import polars as pl

from etl.contract.sources import SOURCES

#: The channels organisations are drawn with, in the order of their draws: channels the
#: contract took on later (web, app) are not drawn, so a seed keeps giving the same organisation.
CHANNELS = ("phone", "chat", "email", "social", "branch")

KINDS = ("fine", "case_mix", "adds_value", "destroys_value", "watermelon")
BAD = frozenset({"destroys_value", "watermelon"})
#: Months of data each organisation has, ending with October 2026.
MONTHS = 12
_START = datetime(2025, 11, 1)
_END = datetime(2026, 11, 1)
_HOUR = 3600


@dataclass
class Unit:
    """One simulated department and its recorded truth."""

    id: str
    function: str
    kind: str
    effect: float = 0.0  # latent score points on the cases it answers for
    volume: float = 0.0  # front line: cases opened per month
    channels: np.ndarray | None = None  # front line: channel mix
    handoff_share: float = 0.0
    promise_hours: float = 48.0
    aht: float = 420.0
    aht_target: float = 450.0
    task_hours: float = 0.0  # back office: typical hours a task stays open
    sla_hours: float = 0.0
    sources: list[int] = field(default_factory=list)  # back office: front-line units feeding it


@dataclass
class Organisation:
    """Units and the organisation-wide habits their cases share."""

    seed: int
    units: list[Unit]
    base: float  # mean latent score
    noise: float  # sd of a customer's score around the case's mean
    channel_effect: dict[str, float]
    month_effect: np.ndarray
    answer_rate: float
    handoff_penalty: float
    broken_penalty: float
    fine_task_hours: float


def organisation(seed: int, scale: float = 1.0) -> Organisation:
    """A random organisation; scale multiplies its volumes (1: 1,500 to 15,000 cases a month)."""
    rng = np.random.default_rng(seed)
    n_front = int(rng.integers(3, 16))
    n_back = 2 if rng.random() < 0.25 else int(rng.integers(3, 16))
    majority_bad = rng.random() < 0.25
    cases = math.exp(rng.uniform(math.log(1_500), math.log(15_000))) * scale
    weights = rng.lognormal(0, 1.0, n_front)
    if rng.random() < 0.5:
        weights[rng.integers(n_front)] *= 0.01  # a tiny unit
    weights = weights / weights.sum()
    channel_effect = {"phone": 0.0} | {c: float(rng.normal(0, 0.5)) for c in CHANNELS[1:]}
    worst = min(channel_effect, key=channel_effect.get)
    fine_task_hours = float(rng.uniform(6, 16))
    units = []
    for i in range(n_front):
        kind = rng.choice(KINDS, p=[0.5, 0.15, 0.1, 0.15, 0.1])
        mix = rng.dirichlet(np.full(len(CHANNELS), 2.0))
        if kind == "case_mix":
            mix = 0.25 * mix + 0.75 * (np.array(CHANNELS) == worst)
        aht = float(rng.uniform(300, 600))
        target = {"watermelon": 1.3, "destroys_value": 0.8}.get(kind, float(rng.uniform(1.0, 1.2)))
        units.append(
            Unit(
                id=f"F{i:02d}",
                function="frontline",
                kind=str(kind),
                effect=_effect(rng, str(kind)),
                volume=cases * weights[i],
                channels=mix,
                handoff_share=float(rng.uniform(0.1, 0.4)),
                promise_hours=float(rng.choice([24, 48, 72])),
                aht=aht,
                aht_target=aht * target,
            )
        )
    back_kinds = rng.choice(KINDS[:2] + KINDS[3:], n_back, p=[0.5, 0.15, 0.2, 0.15])
    if majority_bad:
        bad = rng.choice(n_back, n_back // 2 + 1, replace=False)
        back_kinds[bad] = rng.choice(["destroys_value", "watermelon"], len(bad))
    weakest = sorted(range(n_front), key=lambda i: units[i].effect)[:2]
    for j, kind in enumerate(back_kinds):
        kind = str(kind)
        hours = fine_task_hours * float(rng.uniform(0.7, 1.4))
        if kind == "watermelon":
            hours = 48 * float(rng.uniform(1.3, 3.0))
        elif kind == "destroys_value" and rng.random() < 0.5:
            hours = 48 * float(rng.uniform(1.0, 2.5))
        sla = hours * {"watermelon": 2.5, "destroys_value": 0.6}.get(kind, 2.0)
        sources = (
            weakest
            if kind == "case_mix"
            else sorted(rng.choice(n_front, int(rng.integers(1, 4)), replace=False).tolist())
        )
        units.append(
            Unit(
                id=f"B{j:02d}",
                function="back_office",
                kind=kind,
                effect=_effect(rng, kind, back_office=True),
                task_hours=hours,
                sla_hours=sla,
                sources=[int(s) for s in sources],
            )
        )
    return Organisation(
        seed=seed,
        units=units,
        base=float(rng.uniform(6.8, 8.0)),
        noise=float(rng.uniform(1.4, 2.2)),
        channel_effect=channel_effect,
        month_effect=rng.normal(0, 0.15, MONTHS),
        answer_rate=float(rng.uniform(0.08, 0.25)),
        handoff_penalty=float(rng.uniform(0.2, 0.8)),
        broken_penalty=float(rng.uniform(0.8, 2.0)),
        fine_task_hours=fine_task_hours,
    )


def _effect(rng: np.random.Generator, kind: str, back_office: bool = False) -> float:
    """The unit's own effect on its cases' mean score (latent points: 1 is about 40 NPS)."""
    if kind == "adds_value":
        return float(rng.uniform(0.3, 1.2))
    if kind == "destroys_value":
        return -float(rng.uniform(0.3, 2.0))
    if kind == "watermelon":
        return -float(rng.uniform(0.0, 0.5)) if back_office else -float(rng.uniform(0.3, 2.0))
    return float(rng.normal(0, 0.05))


def frames(
    org: Organisation, handed_spread: float = 0.0
) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Every source as contract frames, and the truth: one row per unit.

    handed_spread > 0 makes each front-line unit's passed-on cases harder or easier than its
    kept ones (latent points, normal with this sd): case mix that the back-office comparison
    assumes away, to measure what breaking that assumption costs."""
    data, truth, _ = _frames(org, handed_spread, None)
    return data, truth


@dataclass
class Demand:
    """The failure demand planted on an organisation besides its chases, from its own stream.

    repeat_rate: per front-line unit, the share of its kept cases that come back to it (0 for
    about a third of units: they cause none); loop: two front-line units that transfer a share
    of their kept cases to each other, the customer coming back to the unit that transferred;
    shared_customers: the share of cases opened by a customer who also has another case, the
    genuine second demand the repeat rule cannot tell from a repeat."""

    repeat_rate: dict[str, float]
    loop: tuple[str, str] | None
    loop_rate: float
    shared_customers: float


def demand(org: Organisation) -> Demand:
    """The organisation's planted failure demand (seed + 3: nothing else it draws moves)."""
    rng = np.random.default_rng(org.seed + 3)
    front = [u.id for u in org.units if u.function == "frontline"]
    rates = {u: 0.0 if rng.random() < 0.35 else float(rng.uniform(0.03, 0.25)) for u in front}
    pair = rng.choice(len(front), 2, replace=False)
    loop = (front[pair[0]], front[pair[1]]) if rng.random() < 0.5 else None
    return Demand(rates, loop, float(rng.uniform(0.05, 0.2)), float(rng.uniform(0.0, 0.08)))


def demand_frames(org: Organisation) -> tuple[dict[str, pl.DataFrame], pl.DataFrame, Demand]:
    """Every source with failure demand planted (demand()), and its truth: one row per contact,
    with the planted reason group (chase, repeat, transfer_bounce; None for value demand) and
    causing department. A chase is the generator's call after a broken promise, caused by the
    back office the case was handed to."""
    planted = demand(org)
    data, _, contacts = _frames(org, 0.0, planted)
    return data, contacts, planted


def _frames(org: Organisation, handed_spread: float, planted: Demand | None):
    rng = np.random.default_rng(org.seed + 1)
    front = [u for u in org.units if u.function == "frontline"]
    back = [u for u in org.units if u.function == "back_office"]
    start, end = _epoch(_START), _epoch(_END)
    parts = []
    for i, unit in enumerate(front):
        n = rng.poisson(unit.volume * MONTHS)
        parts.append(
            {
                "origin": np.full(n, i),
                "start": rng.integers(start, end - 7 * 86400, n),
                "channel": rng.choice(len(CHANNELS), n, p=unit.channels),
                "handed": rng.random(n) < unit.handoff_share,
            }
        )
    case = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n = len(case["origin"])
    month = ((case["start"] - start) // (30.44 * 86400)).astype(int).clip(0, MONTHS - 1)
    # Routing: a handed-off case goes to one of the back offices that list its origin.
    handler = np.full(n, -1)
    feeds = {i: [j for j, b in enumerate(back) if i in b.sources] for i in range(len(front))}
    pick = rng.random(n)
    for i, targets in feeds.items():
        mask = (case["origin"] == i) & case["handed"]
        if targets:
            handler[mask] = np.array(targets)[(pick[mask] * len(targets)).astype(int)]
    handed = handler >= 0
    promise_hours = np.array([u.promise_hours for u in front])[case["origin"]]
    due = case["start"] + (promise_hours * _HOUR).astype(np.int64)
    opened = case["start"] + rng.integers(600, 2 * _HOUR, n)
    z = rng.normal(0, 0.35, n)
    hours = np.array([b.task_hours for b in back] + [1.0])[handler]
    closed = opened + (hours * np.exp(z) * _HOUR).astype(np.int64)
    fine_closed = opened + (org.fine_task_hours * np.exp(z) * _HOUR).astype(np.int64)
    delay = rng.integers(1800, 6 * _HOUR, n)
    never = rng.random(n) < 0.03
    broken = handed & (never | (closed + delay > due))
    fine_broken = handed & (never | (fine_closed + delay > due))
    noise = rng.normal(0, org.noise, n)
    channel_effect = np.array([org.channel_effect[c] for c in CHANNELS])[case["channel"]]
    own = np.array([u.effect for u in front])[case["origin"]]
    work = np.array([b.effect for b in back] + [0.0])[handler]
    common = org.base + org.month_effect[month] + channel_effect - org.handoff_penalty * handed
    # Its own stream, so that the spread changes nothing else the organisation draws.
    harder = np.random.default_rng(org.seed + 2).normal(0, 1, len(front)) * handed_spread
    common = common - harder[case["origin"]] * handed

    def scores(front_effect, back_effect, breaks) -> np.ndarray:
        mean = common + front_effect + back_effect - org.broken_penalty * breaks
        return np.clip(np.rint(mean + noise), 0, 10)

    actual = scores(own, work, broken)
    answered = rng.random(n) < org.answer_rate
    done = np.where(never, -1, closed + delay)
    answered_at = np.maximum(case["start"], np.where(handed, np.maximum(closed, done), 0))
    answered_at = answered_at + rng.integers(2 * _HOUR, 72 * _HOUR, n)
    answered &= answered_at < end
    truth = []
    for i, unit in enumerate(front):
        mine = answered & (case["origin"] == i) & ~handed
        counterfactual = scores(np.where(case["origin"] == i, 0.0, own), work, broken)
        truth.append(_truth(org, unit, mine, actual, counterfactual))
    for j, unit in enumerate(back):
        mine = answered & (handler == j)
        others = np.where(handler == j, 0.0, work)
        counterfactual = scores(own, others, np.where(handler == j, fine_broken, broken))
        truth.append(_truth(org, unit, mine, actual, counterfactual))
    data, contacts = _sources(
        org, rng, case, handler, opened, closed, due, done, broken, actual, answered, planted
    )
    data["nps_responses"] = data["nps_responses"].with_columns(
        responded_at=pl.from_epoch(pl.Series(answered_at[answered]), time_unit="s")
    )
    return data, pl.DataFrame(truth), contacts


def _truth(org, unit, mine, actual, counterfactual) -> dict:
    answers = int(mine.sum())
    gap = _nps(actual[mine]) - _nps(counterfactual[mine]) if answers else None
    return {
        "organisation": org.seed,
        "department_id": unit.id,
        "function": unit.function,
        "kind": unit.kind,
        "true_gap": gap,
        "answers": answers,
        "units_in_function": sum(u.function == unit.function for u in org.units),
        "bad_in_function": sum(u.function == unit.function and u.kind in BAD for u in org.units),
    }


def _nps(scores: np.ndarray) -> float:
    return 100.0 * ((scores >= 9).mean() - (scores <= 6).mean())


def _epoch(moment: datetime) -> int:
    return int((moment - datetime(1970, 1, 1)).total_seconds())


def _sources(
    org, rng, case, handler, opened, closed, due, done, broken, score, answered, planted=None
) -> tuple[dict, pl.DataFrame]:
    """The contract's files for the cases drawn (as typed frames), and each contact's planted
    reason group and cause."""
    front = [u for u in org.units if u.function == "frontline"]
    back = [u for u in org.units if u.function == "back_office"]
    end = _epoch(_END)
    n = len(case["origin"])
    handed = handler >= 0
    ids = np.array([u.id for u in front])
    back_ids = np.array([b.id for b in back] + [""])
    case_id = np.char.add("K", np.arange(n).astype(str))
    aht = np.array([u.aht for u in front])[case["origin"]]
    first = pl.DataFrame(
        {
            "case_id": case_id,
            "at": case["start"],
            "department_id": ids[case["origin"]],
            "handle_seconds": np.maximum(20, rng.lognormal(np.log(aht), 0.4)).astype(np.int64),
            "channel": np.array(CHANNELS)[case["channel"]],
            "resolved": ~handed,
            "transferred_to": back_ids[handler],
            "due": np.where(handed, due, -1),
            "done": np.where(handed & (done > 0) & (done < end), done, -1),
            "reason": pl.Series([None] * n, dtype=pl.String),
            "cause": pl.Series([None] * n, dtype=pl.String),
        }
    )
    customer = np.char.replace(case_id, "K", "C")
    extra = []
    if planted is not None:
        first, customer, extra = _plant(org, planted, first, customer, case_id, aht, handed, end)
    chase = broken & (rng.random(n) < 0.5)
    chase_at = due + rng.integers(_HOUR, 36 * _HOUR, n)
    chase &= chase_at < end
    chases = pl.DataFrame(
        {
            "case_id": case_id[chase],
            "at": chase_at[chase],
            "department_id": ids[case["origin"][chase]],
            "handle_seconds": np.full(chase.sum(), 240, dtype=np.int64),
            "channel": np.full(chase.sum(), "phone"),
            "resolved": np.zeros(chase.sum(), dtype=bool),
            "transferred_to": np.full(chase.sum(), ""),
            "due": np.full(chase.sum(), -1),
            "done": np.full(chase.sum(), -1),
            "reason": np.full(chase.sum(), "chase"),
            "cause": back_ids[handler[chase]],
        }
    )
    contacts = pl.concat([first, chases, *extra], how="vertical_relaxed").sort("at", "case_id")
    customers = pl.DataFrame({"case_id": case_id, "customer_id": customer})
    contacts = contacts.join(customers, on="case_id", how="left", maintain_order="left")
    timestamp = {"time_unit": "s"}
    interactions = contacts.with_row_index("n").select(
        pl.format("I{}", "n").alias("interaction_id"),
        pl.from_epoch("at", **timestamp).alias("started_at"),
        "department_id",
        "handle_seconds",
        "case_id",
        "customer_id",
        "channel",
        "resolved",
        pl.when(pl.col("transferred_to") != "").then("transferred_to").alias("transferred_to"),
        pl.when(pl.col("due") > 0)
        .then(pl.from_epoch("due", **timestamp))
        .alias("follow_up_due_at"),
        pl.when(pl.col("done") > 0)
        .then(pl.from_epoch("done", **timestamp))
        .alias("follow_up_done_at"),
    )
    task_rows = handed & (opened < end)
    tasks = pl.DataFrame(
        {
            "task_id": np.char.add("T", np.arange(task_rows.sum()).astype(str)),
            "case_id": case_id[task_rows],
            "department_id": back_ids[handler[task_rows]],
            "opened_at": opened[task_rows],
            "closed_at": np.where(closed[task_rows] < end, closed[task_rows], -1),
            "sla_hours": np.array([b.sla_hours for b in back] + [0.0])[handler[task_rows]],
        }
    ).with_columns(
        pl.from_epoch("opened_at", **timestamp),
        pl.when(pl.col("closed_at") > 0).then(pl.from_epoch("closed_at", **timestamp)),
    )
    responses = pl.DataFrame(
        {
            "response_id": np.char.add("R", np.arange(answered.sum()).astype(str)),
            "responded_at": np.zeros(answered.sum(), dtype=np.int64),
            "customer_id": customer[answered],
            "case_id": case_id[answered],
            "department_id": ids[case["origin"][answered]],
            "score": score[answered].astype(np.int64),
        }
    )
    departments = pl.DataFrame(
        {
            "department_id": [u.id for u in org.units],
            "department_name": [f"Unit {u.id}" for u in org.units],
            "function": [u.function for u in org.units],
            "headcount": [20] * len(org.units),
        }
    )
    valid = _START.date()
    targets = pl.DataFrame(
        [(u.id, "aht_seconds", u.aht_target, valid) for u in front]
        + [(b.id, "task_sla_met_rate", 0.85, valid) for b in back],
        orient="row",
        schema=SOURCES["kpi_targets"].column_names,
    )
    truth = contacts.with_row_index("n").select(
        pl.format("I{}", "n").alias("interaction_id"),
        "department_id",
        pl.col("reason").cast(pl.String),
        pl.col("cause").cast(pl.String),
    )
    data = {
        "departments": departments.rename({"department_name": "name"}),
        "interactions": interactions,
        "case_tasks": tasks,
        "nps_responses": responses,
        "kpi_targets": targets,
    }
    return data, truth


def _plant(org, planted, first, customer, case_id, aht, handed, end):
    """Repeats, a transfer loop and shared customers on the cases drawn (demand())."""
    rng = np.random.default_rng(org.seed + 4)
    n = len(case_id)
    origin = first["department_id"].to_numpy()
    at = first["at"].to_numpy()
    draw = rng.random(n)
    rate = np.array([planted.repeat_rate[d] for d in origin])
    looped = np.zeros(n, dtype=bool)
    partner = np.full(n, "", dtype=object)
    if planted.loop is not None:
        a, b = planted.loop
        looped = ~handed & np.isin(origin, [a, b]) & (draw < planted.loop_rate)
        partner = np.where(origin == a, b, a)
    repeat = ~handed & ~looped & (rng.random(n) < rate)
    back_at = at + rng.integers(_HOUR, 6 * 86400, n)
    extra = []
    for mask, reason in ((repeat, "repeat"), (looped, "transfer_bounce")):
        mask = mask & (back_at < end)
        k = int(mask.sum())
        extra.append(
            pl.DataFrame(
                {
                    "case_id": case_id[mask],
                    "at": back_at[mask],
                    "department_id": origin[mask],
                    "handle_seconds": np.maximum(20, rng.lognormal(np.log(aht[mask]), 0.4)).astype(
                        np.int64
                    ),
                    "channel": np.full(k, "phone"),
                    "resolved": np.ones(k, dtype=bool),
                    "transferred_to": np.full(k, ""),
                    "due": np.full(k, -1),
                    "done": np.full(k, -1),
                    "reason": np.full(k, reason),
                    "cause": origin[mask],
                }
            )
        )
        if reason == "transfer_bounce":
            first = first.with_columns(
                transferred_to=pl.when(pl.Series(mask))
                .then(pl.Series(partner.astype(str)))
                .otherwise("transferred_to"),
                resolved=pl.col("resolved") & ~pl.Series(mask),
            )
    # A shared customer's case is another case's customer, whose case opened up to 10 days
    # before: about half of them within the repeat window.
    shared = rng.random(n) < planted.shared_customers
    order = np.argsort(at, kind="stable")
    earlier = at[shared] - rng.integers(0, 10 * 86400, int(shared.sum()))
    other = order[np.searchsorted(at[order], earlier).clip(0, n - 1)]
    customer = customer.copy()
    customer[shared] = customer[other]
    return first, customer, extra


def warehouse(data: dict[str, pl.DataFrame]) -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the frames in its raw tables, built by the real models
    (the loader is tested elsewhere; this keeps an organisation to a few seconds)."""
    from etl.loading.read import EXTRA, ROW
    from etl.warehouse.models import build
    from etl.warehouse.publish import ensure_schema

    con = duckdb.connect()
    ensure_schema(con)
    for name, frame in data.items():
        frame = frame.with_row_index(ROW, offset=1).with_columns(
            pl.lit(0).alias("_load_id"),
            pl.lit("simulated").alias("_file"),
            pl.lit(None, dtype=pl.String).alias(EXTRA),
        )
        con.register("frame", frame.to_arrow())
        con.execute(f"INSERT INTO {SOURCES[name].raw_table} BY NAME SELECT * FROM frame")
        con.unregister("frame")
    build(con)
    return con


def judge(seed: int, scale: float = 1.0, handed_spread: float = 0.0) -> pl.DataFrame:
    """One organisation's truth beside department_value's verdicts, one row per unit."""
    data, truth = frames(organisation(seed, scale), handed_spread)
    con = warehouse(data)
    try:
        verdicts = con.sql(
            "SELECT department_id, verdict, nps_gap, nps_gap_ci_low, nps_gap_ci_high,"
            " nps_touched_n, own_target_attainment FROM department_value"
        ).pl()
    finally:
        con.close()
    return truth.join(verdicts, on="department_id", how="left")


#: The issue's targets, measured by rates(): bad units found among those with this many
#: answers and a true gap at least this large (points, negative); fine units given a bad verdict.
TARGET_ANSWERS = 300
TARGET_GAP = -20.0


def rates(results: pl.DataFrame) -> dict[str, float | int]:
    """The error rates docs/methodology.md quotes, from judge()'s rows."""
    from etl.analyses.thresholds import MATERIAL_NPS_GAP

    bad_verdict = pl.col("verdict").is_in(sorted(BAD))
    target = results.filter(
        pl.col("kind").is_in(sorted(BAD))
        & (pl.col("answers") >= TARGET_ANSWERS)
        & (pl.col("true_gap") <= TARGET_GAP)
    )
    fine = results.filter(pl.col("kind").is_in(["fine", "case_mix"]))
    neutral = results.filter(pl.col("verdict") == "neutral")
    wide = neutral.filter(
        (pl.col("nps_gap_ci_low") <= -MATERIAL_NPS_GAP)
        | (pl.col("nps_gap_ci_high") >= MATERIAL_NPS_GAP)
        | pl.col("nps_gap").is_null()
    )
    return {
        "organisations": results["organisation"].n_unique(),
        "units": results.height,
        "target_bad_units": target.height,
        "target_found": target.filter(bad_verdict).height,
        "fine_units": fine.height,
        "fine_called_bad": fine.filter(bad_verdict).height,
        "neutral": neutral.height,
        "neutral_wider_than_margin": wide.height,
    }


def confusion(results: pl.DataFrame) -> pl.DataFrame:
    """Units by true kind (rows) and verdict (columns)."""
    from etl.reporting.formats import VERDICTS

    table = results.pivot(
        on="verdict", index="kind", values="department_id", aggregate_function="len"
    )
    for verdict in VERDICTS:
        if verdict not in table.columns:
            table = table.with_columns(pl.lit(0, dtype=pl.UInt32).alias(verdict))
    order = {k: i for i, k in enumerate(KINDS)}
    return (
        table.select("kind", *VERDICTS)
        .fill_null(0)
        .sort(pl.col("kind").replace_strict(order, return_dtype=pl.Int64))
    )


def power(results: pl.DataFrame) -> pl.DataFrame:
    """Share of bad units found, by survey answers on their cases and true gap."""
    bad = results.filter(pl.col("kind").is_in(sorted(BAD)) & pl.col("true_gap").is_not_null())
    return (
        bad.with_columns(
            pl.col("answers")
            .cut([29, 99, 299, 999], labels=["<30", "30-99", "100-299", "300-999", "1000+"])
            .alias("answers_band"),
            pl.col("true_gap")
            .cut([-40, -20, -10], labels=["<=-40", "-40 to -20", "-20 to -10", ">-10"])
            .alias("gap_band"),
            pl.col("verdict").is_in(sorted(BAD)).alias("found"),
        )
        .group_by("answers_band", "gap_band")
        .agg(pl.len().alias("units"), pl.col("found").mean().alias("found_share"))
        .sort("answers_band", "gap_band")
    )


def situations(results: pl.DataFrame) -> pl.DataFrame:
    """The target bad units found, by function and whether bad units are its majority."""
    target = results.filter(
        pl.col("kind").is_in(sorted(BAD))
        & (pl.col("answers") >= TARGET_ANSWERS)
        & (pl.col("true_gap") <= TARGET_GAP)
    )
    return (
        target.with_columns(
            (pl.col("bad_in_function") * 2 > pl.col("units_in_function")).alias("majority_bad"),
            pl.col("verdict").is_in(sorted(BAD)).alias("found"),
        )
        .group_by("function", "majority_bad")
        .agg(pl.len().alias("units"), pl.col("found").mean().alias("found_share"))
        .sort("function", "majority_bad")
    )


#: The reason groups a planted contact is scored in: the generator plants one call after a
#: broken promise, which the rules call a chase while the back office holds the case and a
#: broken promise once it has closed it.
REASON_GROUP = {"chase": "chase", "broken_promise": "chase"}


def attribute(seed: int, scale: float = 1.0) -> pl.DataFrame:
    """One organisation's planted failure demand beside int_failure_demand's, one row per
    department and reason group (chase, repeat, transfer_bounce), every department with every
    group, so that those with none planted are judged too: planted, found, and hits (contacts
    found with the planted reason group and causing department)."""
    org = organisation(seed, scale)
    data, planted, _ = demand_frames(org)
    con = warehouse(data)
    try:
        found = con.sql(
            "SELECT interaction_id, reason, cause_department_id AS found_cause"
            " FROM int_failure_demand WHERE is_failure_demand"
        ).pl()
    finally:
        con.close()
    found = found.with_columns(pl.col("reason").replace(REASON_GROUP).alias("found_reason")).drop(
        "reason"
    )
    both = planted.join(found, on="interaction_id", how="full", coalesce=True)
    hit = (pl.col("reason") == pl.col("found_reason")) & (pl.col("cause") == pl.col("found_cause"))
    planted_n = (
        both.filter(pl.col("reason").is_not_null())
        .group_by(department_id="cause", group="reason")
        .agg(planted=pl.len(), hits=hit.sum())
    )
    found_n = (
        both.filter(pl.col("found_reason").is_not_null())
        .group_by(department_id="found_cause", group="found_reason")
        .agg(found=pl.len())
    )
    grid = pl.DataFrame({"department_id": [u.id for u in org.units]}).join(
        pl.DataFrame({"group": ["chase", "repeat", "transfer_bounce"]}), how="cross"
    )
    function = pl.DataFrame(
        {"department_id": [u.id for u in org.units], "function": [u.function for u in org.units]}
    )
    return (
        grid.join(function, on="department_id")
        .join(planted_n, on=["department_id", "group"], how="left")
        .join(found_n, on=["department_id", "group"], how="left")
        .with_columns(pl.col("planted", "hits", "found").fill_null(0).cast(pl.Int64))
        .with_columns(organisation=pl.lit(seed), contacts=pl.lit(planted.height))
    )


def attribution_rates(results: pl.DataFrame) -> dict[str, float | int]:
    """Precision and recall of the causing department, from attribute()'s rows: by contact
    (a hit is a contact found with its planted reason group and causing department), and by
    department and reason group (a pair is called a cause when any contact is found on it)."""
    planted, found, hits = (int(results[c].sum()) for c in ("planted", "found", "hits"))
    called = results.filter(pl.col("found") > 0)
    caused = results.filter(pl.col("planted") > 0)
    return {
        "organisations": results["organisation"].n_unique(),
        "departments": results.select("organisation", "department_id").unique().height,
        "contacts": int(results.unique("organisation")["contacts"].sum()),
        "planted": planted,
        "found": found,
        "hits": hits,
        "precision": hits / found if found else float("nan"),
        "recall": hits / planted if planted else float("nan"),
        "pairs_planted": caused.height,
        "pairs_called": called.height,
        "pairs_called_and_planted": called.filter(pl.col("planted") > 0).height,
        "pairs_none_planted": results.filter(pl.col("planted") == 0).height,
        "pairs_invented": called.filter(pl.col("planted") == 0).height,
        "invented_contacts": int(called.filter(pl.col("planted") == 0)["found"].sum()),
    }
