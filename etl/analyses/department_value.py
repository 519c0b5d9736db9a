"""department_value: whether customers whose cases a department touched fare worse than
comparable customers, and whether the department meets its own targets meanwhile.

Method and measured error rates: docs/methodology.md#department-value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
from scipy import stats

from etl.analyses.thresholds import (
    BROKEN_PROMISES_SHARE,
    MATERIAL_NPS_GAP,
    REFERENCE_PASSES,
    TARGETS_MET_SHARE,
    VALUE_WINDOW_MONTHS,
)
from etl.contract.metrics import MIN_N_SURVEY, Z_95

#: How a unit answers for its cases: the front line and support for the cases they opened and
#: kept, a back office for the cases it worked on after another unit opened them.
_ROLE = {"frontline": "kept", "support": "kept", "back_office": "handler"}
_UNITS = {
    "frontline": ("front-line unit", "front-line units"),
    "back_office": ("back-office unit", "back-office units"),
    "support": ("support unit", "support units"),
}


@dataclass(frozen=True)
class CaseModel:
    """A fitted case-level model: each answer's NPS value (+100, 0, -100) explained by the unit
    that opened the case, the units that worked on it after ("handler"), its channel and its
    month. The opening unit has one effect on all its cases ("origin"), or, split, one on the
    cases it kept ("kept") and one on those it passed on ("handed")."""

    columns: dict[tuple[str, str], int]
    beta: np.ndarray
    cov: np.ndarray
    gram: np.ndarray
    gram_inverse: np.ndarray

    def contrast(self, unit: tuple[str, str], others: list[tuple[str, str]]) -> tuple | None:
        """The unit's effect minus the mean of the others' and its standard error; None when
        the data cannot separate them (the contrast is not estimable)."""
        c = np.zeros(len(self.beta))
        c[self.columns[unit]] = 1.0
        for other in others:
            c[self.columns[other]] -= 1.0 / len(others)
        # Estimable if c lies in the row space of the design: c G^+ G = c.
        if not np.allclose(c @ self.gram_inverse @ self.gram, c, atol=1e-6):
            return None
        return float(c @ self.beta), float(math.sqrt(max(c @ self.cov @ c, 0.0)))


def fit_case_model(cells: pl.DataFrame, split: bool) -> CaseModel | None:
    """Least squares on the answers, computed from cell counts, with a robust (HC1) covariance;
    tests/unit/test_case_model.py holds it equal to statsmodels' OLS on the answers one by one.

    split=True gives each opening unit separate effects on the cases it kept and those it
    passed on, to judge the front line on the cases it kept; split=False one effect on all its
    cases, so that a back office fed by one unit is still judged net of that unit's effect."""
    cells = cells.filter(pl.col("answers") > 0)
    if cells.is_empty():
        return None
    handlers = pl.concat([cells["first_handler_id"], cells["second_handler_id"]]).drop_nulls()
    handed = cells["first_handler_id"].is_not_null()
    if split:
        keys = [("kept", v) for v in sorted(cells.filter(~handed)["origin_department_id"].unique())]
        keys += [
            ("handed", v) for v in sorted(cells.filter(handed)["origin_department_id"].unique())
        ]
    else:
        keys = [("origin", v) for v in sorted(cells["origin_department_id"].unique())]
    keys += [("handler", v) for v in sorted(handlers.unique())]
    keys += [("channel", v) for v in sorted(cells["channel"].unique())[1:]]
    keys += [("month", str(v)) for v in sorted(cells["month"].unique())[1:]]
    columns = {key: i for i, key in enumerate(keys)}
    x = np.zeros((cells.height, len(keys)))
    for row, cell in enumerate(cells.iter_rows(named=True)):
        opened = "origin" if not split else "handed" if cell["first_handler_id"] else "kept"
        for key in (
            (opened, cell["origin_department_id"]),
            ("handler", cell["first_handler_id"]),
            ("handler", cell["second_handler_id"]),
            ("channel", cell["channel"]),
            ("month", str(cell["month"])),
        ):
            if key in columns:
                x[row, columns[key]] = 1.0
    n = cells["answers"].to_numpy().astype(float)
    total = 100.0 * (cells["promoters"] - cells["detractors"]).to_numpy()
    squares = 10_000.0 * (cells["promoters"] + cells["detractors"]).to_numpy()
    gram = x.T @ (x * n[:, None])
    gram_inverse = np.linalg.pinv(gram)
    beta = gram_inverse @ (x.T @ total)
    fitted = x @ beta
    # Each cell's sum of squared residuals over its answers, from its sums: no answer is needed.
    residuals = np.maximum(squares - 2 * fitted * total + n * fitted**2, 0.0)
    meat = x.T @ (x * residuals[:, None])
    answers, rank = n.sum(), np.linalg.matrix_rank(gram)
    cov = gram_inverse @ meat @ gram_inverse * answers / max(answers - rank, 1)
    return CaseModel(columns, beta, cov, gram, gram_inverse)


def department_value(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per department: its cases against the other units of its function taken
    together (case-level model), the customer's promise while it held cases, its verdict.

    The reference is ordinary work. A unit that breaks most of the promises it holds is left
    out of every reference. A first pass sets each unit against all the others that keep their
    promises; each later pass (REFERENCE_PASSES at most) leaves out the units the previous one
    showed materially worse, and those it showed materially better while they are a minority
    (_tails), as a trimmed mean leaves out its tails but never its middle.
    """
    groups = con.sql(
        "SELECT g.*, d.department_name FROM int_department_value_groups g"
        " JOIN stg_departments d USING (department_id) ORDER BY department_id"
    ).pl()
    # In a fixed order, so that a rebuild gives the same figures to the last bit.
    cells = con.sql("SELECT * FROM int_department_value_cells ORDER BY ALL").pl()
    models = {
        "kept": fit_case_model(cells, split=True),
        "handler": fit_case_model(cells, split=False),
    }
    targets = _targets(con)
    units = list(groups.iter_rows(named=True))
    failing = {g["department_id"] for g in units if _promise(g)["fails"]}
    first = {g["department_id"]: _gap(g, units, models, failing) for g in units}
    outliers = failing | _tails(units, first)
    for _ in range(REFERENCE_PASSES):
        gaps = {g["department_id"]: _final_gap(g, units, models, first, outliers) for g in units}
        again = failing | _tails(units, gaps)
        if again == outliers:
            break
        outliers = again
    rows = [_value_row(g, gaps[g["department_id"]], _hours_added(g, units), targets) for g in units]
    return pl.DataFrame(rows, schema=_VALUE_SCHEMA, orient="row")


def _tails(units: list[dict], gaps: dict[str, dict]) -> set[str]:
    """Units to leave out of the reference: per function, those shown materially worse, and
    those shown materially better while they are fewer than the units in between (excellent
    units are rare; when most units look better than the rest, the rest are what failed)."""
    left_out = set()
    for function in {g["department_function"] for g in units}:
        ids = [g["department_id"] for g in units if g["department_function"] == function]
        worse = {d for d in ids if _worse(gaps[d])}
        better = {d for d in ids if _better(gaps[d])}
        body = [d for d in ids if gaps[d]["gap"] is not None and d not in worse | better]
        left_out |= worse | (better if len(better) < len(body) else set())
    return left_out


def _worse(gap: dict) -> bool:
    """Materially worse: the whole interval beyond the margin below zero."""
    return gap["gap"] is not None and gap["high"] <= -MATERIAL_NPS_GAP


def _better(gap: dict) -> bool:
    """Materially better: the whole interval beyond the margin above zero."""
    return gap["gap"] is not None and gap["low"] >= MATERIAL_NPS_GAP


def _final_gap(group: dict, units: list[dict], models, first: dict, outliers: set[str]) -> dict:
    """The gap to the ordinary units of its function. With none left, the first pass (all that
    keep their promises) or, with none of those either, the failing ones may still show it
    worse. Being better than units that are themselves out of the ordinary says nothing: when
    the only units to compare with differ, failure is likelier than excellence."""
    gap = _gap(group, units, models, outliers)
    if gap["reason"] != "reference":
        return gap
    earlier = first[group["department_id"]]
    if earlier["reason"] != "reference":
        return earlier if _worse(earlier) else earlier | {"reason": "outliers"}
    against_failing = _gap(group, units, models, set())
    return against_failing if _worse(against_failing) else gap


def _targets(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    rows = con.execute(
        "SELECT department_id, count(*), count(*) FILTER (WHERE is_met)"
        " FROM int_target_attainment WHERE is_own_target"
        " AND month > (SELECT max(month) FROM int_target_attainment) - to_months($w)"
        " GROUP BY department_id",
        {"w": VALUE_WINDOW_MONTHS},
    ).fetchall()
    return {d: (n, met) for d, n, met in rows}


_VALUE_SCHEMA = {
    "department_id": pl.String,
    "department_name": pl.String,
    "department_function": pl.String,
    "customer_touch_share": pl.Float64,
    "cases_touched": pl.Int64,
    "reference_units": pl.Int64,
    "reference_ids": pl.List(pl.String),
    "nps_touched": pl.Float64,
    "nps_touched_n": pl.Int64,
    "nps_gap": pl.Float64,
    "nps_gap_ci_low": pl.Float64,
    "nps_gap_ci_high": pl.Float64,
    "promise_kept_touched": pl.Float64,
    "cases_held": pl.Int64,
    "promises_held": pl.Int64,
    "promises_broken_while_held": pl.Int64,
    "promise_kept_held": pl.Float64,
    "promise_kept_held_ci_low": pl.Float64,
    "promise_kept_held_ci_high": pl.Float64,
    "hours_beyond_promise": pl.Float64,
    "chasing_contacts": pl.Int64,
    "hours_added": pl.Float64,
    "hours_added_ci_low": pl.Float64,
    "hours_added_ci_high": pl.Float64,
    "own_target_months": pl.Int64,
    "own_target_attainment": pl.Float64,
    "verdict": pl.String,
    "explanation": pl.String,
}


def _nps(group: dict) -> float | None:
    if group["answers"] < MIN_N_SURVEY:
        return None
    return 100 * (group["promoters"] - group["detractors"]) / group["answers"]


def _kept(group: dict) -> float | None:
    return 1 - group["promises_broken"] / group["promises"] if group["promises"] else None


def _promise(group: dict) -> dict:
    """The promises it held: share kept while it held them, a 95% Wilson interval, and
    whether it broke most of them beyond doubt (the upper end of the kept share below half)."""
    held, broken = group["promises_held"], group["promises_broken_while_held"]
    if not held:
        return {"kept": None, "low": None, "high": None, "fails": False}
    interval = stats.binomtest(held - broken, held).proportion_ci(method="wilson")
    return {
        "kept": (held - broken) / held,
        "low": interval.low,
        "high": interval.high,
        "fails": interval.high < 1 - BROKEN_PROMISES_SHARE,
    }


def _reference(group: dict, units: list[dict], model: CaseModel, failing: set[str]) -> list:
    """The other units of its function, not shown to fail their customers, with enough answers
    in the same role, that the data can set it against (the contrast is estimable: for a back
    office, the units feeding either keep cases of their own or feed both)."""
    role = _ROLE[group["department_function"]]
    unit = (role, group["department_id"])
    return [
        (role, g["department_id"])
        for g in units
        if g["department_function"] == group["department_function"]
        and g["department_id"] != group["department_id"]
        and g["department_id"] not in failing
        and g["answers"] >= MIN_N_SURVEY
        and (role, g["department_id"]) in model.columns
        and model.contrast(unit, [(role, g["department_id"])]) is not None
    ]


def _gap(group: dict, units: list[dict], models: dict, failing: set[str]) -> dict:
    """Its NPS gap to the other units of its function taken together, with a 95% interval,
    or why there is none (models: the case model for each role, fit_case_model)."""
    function = group["department_function"]
    unit = (_ROLE[function], group["department_id"])
    model = models[unit[0]]
    found = {
        "units": 0, "ids": [], "gap": None, "low": None, "high": None, "why": None, "reason": None
    }  # fmt: skip
    if not group["cases"]:
        return found
    if group["answers"] < MIN_N_SURVEY or model is None or unit not in model.columns:
        found["why"] = (
            f"{group['answers']} survey answers on its cases in the last {VALUE_WINDOW_MONTHS}"
            f" months, fewer than the {MIN_N_SURVEY} needed"
        )
        found["reason"] = "answers"
        return found
    reference = _reference(group, units, model, failing)
    found["units"], found["ids"] = len(reference), [d for _, d in reference]
    if not reference:
        where = ", and whose cases can be set against its own" if function == "back_office" else ""
        found["why"] = (
            f"no other {_UNITS[function][0]} with {MIN_N_SURVEY} survey answers that is not"
            f" itself failing its customers{where}"
        )
        found["reason"] = "reference"
        return found
    gap, se = model.contrast(unit, reference)
    found.update(gap=gap, low=gap - Z_95 * se, high=gap + Z_95 * se)
    return found


def _hours_added(group: dict, units: list[dict]) -> tuple:
    """Mean extra hours to resolve its cases against the other units of its function pooled,
    with a Welch 95% interval, from exact integer sums (so every engine gives the same)."""
    others = [
        g
        for g in units
        if g["department_function"] == group["department_function"]
        and g["department_id"] != group["department_id"]
    ]
    n, total, squares = (int(group[c]) for c in _SUMS)
    n_o, total_o, squares_o = (sum(int(g[c]) for g in others) for c in _SUMS)
    if n < 2 or n_o < 2:
        return (None, None, None)
    diff = (total / n - total_o / n_o) / 3600
    # n * sum(x^2) - sum(x)^2 is exact in integers: no cancellation.
    variance = (n * squares - total**2) / (n * (n - 1) * n) / 3600**2
    variance_o = (n_o * squares_o - total_o**2) / (n_o * (n_o - 1) * n_o) / 3600**2
    half = Z_95 * math.sqrt(variance + variance_o)
    return (diff, diff - half, diff + half)


_SUMS = ("resolved_cases", "resolution_seconds_sum", "resolution_seconds_squares")


def _value_row(group: dict, gap: dict, hours: tuple, targets: dict) -> tuple:
    months, met = targets.get(group["department_id"], (0, 0))
    attainment = met / months if months else None
    promise = _promise(group)
    verdict, sentence = _verdict(group, gap, promise, (met, months))
    return (
        group["department_id"],
        group["department_name"],
        group["department_function"],
        group["customer_touch_share"],
        group["cases"],
        gap["units"],
        gap["ids"],
        _nps(group),
        group["answers"],
        gap["gap"],
        gap["low"],
        gap["high"],
        _kept(group),
        group["cases_held"],
        group["promises_held"],
        group["promises_broken_while_held"],
        promise["kept"],
        promise["low"],
        promise["high"],
        group["hours_beyond_promise"],
        group["chasing_contacts"],
        *hours,
        months,
        attainment,
        verdict,
        sentence,
    )


def _points(value: float) -> str:
    """'1 point', '12 points': the size of a gap in words."""
    size = round(abs(value))
    return f"{size} point" if size == 1 else f"{size} points"


def _signed(value: float) -> str:
    """A whole number with its sign, and no '-0'."""
    return "0" if round(value) == 0 else f"{value:+.0f}"


def _verdict(group: dict, gap: dict, promise: dict, targets: tuple[int, int]) -> tuple[str, str]:
    """The verdict and its sentence: docs/methodology.md, department_value, in this order."""
    name, function = group["department_name"], group["department_function"]
    if group["customer_touch_share"] == 0:
        return "no_customer_link", (
            f"No customer case touched {name} in the last {VALUE_WINDOW_MONTHS} months."
        )
    met, months = targets
    meets = months > 0 and met / months >= TARGETS_MET_SHARE
    measured = gap["gap"] is not None
    worse = _worse(gap)
    # Set only against units that are themselves out of the ordinary: no claim either way.
    beside_outliers = gap["reason"] == "outliers"
    better = _better(gap) and not beside_outliers
    similar = (
        measured
        and not beside_outliers
        and gap["low"] > -MATERIAL_NPS_GAP
        and gap["high"] < MATERIAL_NPS_GAP
    )
    promised = _promise_text(name, group)
    subject = "its customers" if promised else f"customers of {name}"
    compared = _gap_text(subject, function, gap)
    if worse or promise["fails"]:
        verdict = "watermelon" if meets else "destroys_value"
        if months:
            joint = "while it met" if meets else "and it met only"
            count = f"{met} of its" if met else "none of its"
            compared += f", {joint if met else 'and it met'} {count} {months} own monthly targets"
    elif better:
        verdict = "adds_value"
    elif similar:
        verdict = "neutral"
        compared += f", within {MATERIAL_NPS_GAP:g} points either way"
    else:
        verdict = "insufficient_data"
        compared = f"Can't tell yet for {name}: {_gap_text('its customers', function, gap)}"
        if beside_outliers:
            them = "that unit is" if gap["units"] == 1 else "those units are"
            compared += f", but {them} far from ordinary work, so this says nothing of its own"
        return verdict, ". ".join(p for p in (compared, promised) if p) + "."
    parts = [p for p in (promised, compared) if p]
    return verdict, ". ".join(p[0].upper() + p[1:] for p in parts) + "."


def _promise_text(name: str, group: dict) -> str | None:
    held, broken = group["promises_held"], group["promises_broken_while_held"]
    if not held:
        return None
    text = (
        f"{name} broke {broken / held:.0%} of the call-backs promised while it held the case"
        f" ({broken:,} of {held:,})"
    )
    if broken:
        text += (
            f", customers waited {group['hours_beyond_promise'] / broken:.0f} hours past the"
            f" promise on average and chased {group['chasing_contacts']:,} times"
        )
    return text


def _gap_text(subject: str, function: str, gap: dict) -> str:
    one, many = _UNITS[function]
    if gap["gap"] is None:
        return f"the NPS of {subject} cannot be compared: {gap['why']}"
    reference = f"the other {one}'s" if gap["units"] == 1 else f"the other {many}'"
    direction = "below" if gap["gap"] < 0 else "above"
    size = f"{_points(gap['gap'])} {direction}" if round(gap["gap"]) else "level with"
    return (
        f"on comparable cases the NPS of {subject} is {size} {reference}"
        f" (95% interval {_signed(gap['low'])} to {_signed(gap['high'])})"
    )
