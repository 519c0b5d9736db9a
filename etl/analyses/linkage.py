"""ex_cx_linkage: whether employee empowerment moves with the NPS of the months after.

Method: docs/methodology.md#ex-cx-linkage.
"""

from __future__ import annotations

import polars as pl
from scipy import stats

from etl.analyses.common import add_months
from etl.analyses.thresholds import (
    FDR,
    LINKAGE_END_WAVES,
    LINKAGE_LAG_MONTHS,
    MATERIAL_EMPOWERMENT_CHANGE,
    MIN_WAVES,
)
from etl.contract.metrics import MIN_N_ENGAGEMENT_GROUP, MIN_N_SURVEY

_EMPOWERMENT = ["empowerment_index", "engagement_index", "teamwork_index", "enps"]


def ex_cx_linkage(series: pl.DataFrame, outcomes: pl.DataFrame) -> pl.DataFrame:
    """Empowerment per department and wave against the customer outcomes of the following
    months: its own contacts', or a back-office unit's held cases' (int_linkage_outcome_month)."""
    empowerment = ["empowerment_index", "engagement_index", "teamwork_index", "enps"]
    waves = series.filter(pl.col("metric").is_in(empowerment) & (pl.col("n") > 0)).pivot(
        "metric", index=["department_id", "name", "month"], values=["value", "n"]
    )
    basis = dict(outcomes.select("department_id", "outcome_basis").unique().iter_rows())
    rows = []
    for wave in waves.sort("department_id", "month").iter_rows(named=True):
        later = outcomes.filter(
            (pl.col("department_id") == wave["department_id"])
            & (pl.col("month") >= add_months(wave["month"], LINKAGE_LAG_MONTHS[0]))
            & (pl.col("month") <= add_months(wave["month"], LINKAGE_LAG_MONTHS[1]))
        )
        rows.append(
            {
                "department_id": wave["department_id"],
                "department_name": wave["name"],
                "wave": wave["month"],
                "responses": wave.get("n_empowerment_index") or wave.get("n_engagement_index"),
                "empowerment_index": wave.get("value_empowerment_index"),
                "engagement_index": wave.get("value_engagement_index"),
                "teamwork_index": wave.get("value_teamwork_index"),
                "enps": wave.get("value_enps"),
                "outcome_basis": basis.get(wave["department_id"], "touchpoint"),
                "nps_following": later["nps"].drop_nulls().mean(),
                "nps_following_n": later.filter(pl.col("nps").is_not_null())["nps_answers"].sum(),
                "fcr_rate_following": later["fcr_rate"].drop_nulls().mean(),
                "months_after": later.height,
                "answers_most": later["nps_answers"].max(),
            }
        )
    table = pl.DataFrame(rows, schema=_LINKAGE_SCHEMA | _FOLLOWING_SCHEMA)
    small = pl.col("responses").fill_null(0) < MIN_N_ENGAGEMENT_GROUP
    table = table.with_columns(
        pl.when(small).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("empowerment_index", "engagement_index", "teamwork_index", "enps")
    )
    measured = outcomes.group_by("department_id").agg(
        pl.col("nps_answers").sum().alias("answers"), pl.col("cases_held").sum().alias("cases")
    )
    evidence = {r[0]: (r[1], r[2]) for r in measured.iter_rows()}
    return _with_association(table, evidence).drop(list(_FOLLOWING_SCHEMA))


_LINKAGE_SCHEMA = {
    "department_id": pl.String,
    "department_name": pl.String,
    "wave": pl.Date,
    "responses": pl.Int64,
    "empowerment_index": pl.Float64,
    "engagement_index": pl.Float64,
    "teamwork_index": pl.Float64,
    "enps": pl.Float64,
    "outcome_basis": pl.String,
    "nps_following": pl.Float64,
    "nps_following_n": pl.Int64,
    "fcr_rate_following": pl.Float64,
}
#: Per wave, for saying why a department is not assessed: months of outcomes after the wave
#: in the data, and the most NPS answers any of them had.
_FOLLOWING_SCHEMA = {"months_after": pl.Int64, "answers_most": pl.Int64}


def _with_association(table: pl.DataFrame, evidence: dict[str, tuple[int, int]]) -> pl.DataFrame:
    """Per department: association of empowerment with the following months' NPS.

    Pearson over the waves, Benjamini-Hochberg across the departments tested, and support
    only where empowerment itself moved materially: two series that merely share a trend
    must not read as a link. evidence: per department, its NPS answers and cases held in all.
    """
    tests = {}
    for (department,), frame in table.group_by(["department_id"], maintain_order=True):
        pairs = frame.sort("wave").select("empowerment_index", "nps_following").drop_nulls()
        if pairs.height >= MIN_WAVES and pairs["empowerment_index"].n_unique() > 1:
            result = stats.pearsonr(pairs["empowerment_index"], pairs["nps_following"])
            values = pairs["empowerment_index"].to_numpy()
            ends = min(LINKAGE_END_WAVES, len(values) // 2)
            moved = abs(values[-ends:].mean() - values[:ends].mean())
            tests[department] = (float(result.statistic), float(result.pvalue), pairs.height, moved)
    names = list(tests)
    q = stats.false_discovery_control([tests[d][1] for d in names], method="bh") if names else []
    q_by = dict(zip(names, map(float, q), strict=True))
    parts = []
    for (department,), frame in table.group_by(["department_id"], maintain_order=True):
        held = frame["outcome_basis"][0] == "held_cases"
        if department in tests:
            rho, p_value, waves, moved = tests[department]
            q_value = q_by[department]
            supported = q_value < FDR and rho > 0 and moved >= MATERIAL_EMPOWERMENT_CHANGE
            sentence = _linkage_sentence(rho, q_value, waves, moved, supported, held)
        else:
            rho = p_value = q_value = None
            moved, supported = 0.0, False
            waves = frame.select("empowerment_index", "nps_following").drop_nulls().height
            sentence = _not_assessed(frame, evidence.get(department, (0, 0)))
        parts.append(
            frame.with_columns(
                pl.lit(rho, dtype=pl.Float64).alias("association"),
                pl.lit(p_value, dtype=pl.Float64).alias("p_value"),
                pl.lit(q_value, dtype=pl.Float64).alias("q_value"),
                pl.lit(waves, dtype=pl.Int64).alias("n_waves"),
                pl.lit(moved, dtype=pl.Float64).alias("empowerment_change"),
                pl.lit(supported).alias("supported"),
                pl.lit(sentence).alias("explanation"),
            )
        )
    if parts:
        return pl.concat(parts)
    return table.with_columns(
        pl.lit(None, dtype=t).alias(c) for c, t in _ASSOCIATION_SCHEMA.items()
    )


_ASSOCIATION_SCHEMA = {
    "association": pl.Float64,
    "p_value": pl.Float64,
    "q_value": pl.Float64,
    "n_waves": pl.Int64,
    "empowerment_change": pl.Float64,
    "supported": pl.Boolean,
    "explanation": pl.String,
}


def _lag() -> str:
    return f"{LINKAGE_LAG_MONTHS[0]}-{LINKAGE_LAG_MONTHS[1]} months"


def _linkage_sentence(rho, q_value, waves, moved, supported, held=False) -> str:
    """The one sentence on an assessed department, in plain words (the correlation and its
    adjusted p-value are the view's columns); a back office's outcome is its held cases'."""
    outcome = "the NPS of the cases it held" if held else "the NPS"
    if supported:
        return (
            f"Over {waves} survey waves, {outcome} in the {_lag()} after each wave rose and fell"
            f" with empowerment, which moved {moved:.0%}: a link this close is unlikely to be"
            " chance, even allowing for every department tested."
        )
    if moved < MATERIAL_EMPOWERMENT_CHANGE:
        return (
            f"No link claimed: empowerment moved only {moved:.0%} over {waves} survey waves,"
            f" too little to tell whether {outcome} follows it."
        )
    return (
        f"No clear link: over {waves} survey waves, {outcome} in the {_lag()} after each wave"
        " did not move with empowerment closely enough to rule out chance."
    )


def _not_assessed(frame: pl.DataFrame, evidence: tuple[int, int]) -> str:
    """Why a department's waves could not be set against its customers, with the deciding numbers.

    The checks run from the employee side to the customer side; the first that fails is the
    reason. evidence: the department's NPS answers and cases held over all months.
    """
    held = frame["outcome_basis"][0] == "held_cases"
    answers, cases = evidence
    total = frame.height
    enough = frame.filter(pl.col("responses").fill_null(0) >= MIN_N_ENGAGEMENT_GROUP)
    shown = enough.filter(pl.col("empowerment_index").is_not_null())
    # A wave of 5 or more with no figure at all is withheld beside a smaller group's
    # (complementary suppression, docs/security.md).
    withheld = enough.filter(pl.all_horizontal(pl.col(_EMPOWERMENT).is_null())).height
    protected = (
        f" and were shown ({withheld} more {'is' if withheld == 1 else 'are'} withheld so that"
        " the organisation's total gives away no smaller group)"
        if withheld
        else ""
    )
    had = (
        f"{shown.height} waves had {MIN_N_ENGAGEMENT_GROUP} or more employee answers{protected},"
        " but"
    )
    if total < MIN_WAVES:
        waves = "1 survey wave" if total == 1 else f"{total} survey waves"
        return f"Not assessed: {waves} so far, and a link needs {MIN_WAVES}."
    if enough.height < MIN_WAVES:
        return (
            f"Not assessed: {enough.height} of {total} waves had {MIN_N_ENGAGEMENT_GROUP} or more"
            f" employee answers, and a link needs {MIN_WAVES}."
        )
    if shown.height < MIN_WAVES and withheld:
        return (
            f"Not assessed: {enough.height} waves had {MIN_N_ENGAGEMENT_GROUP} or more employee"
            f" answers, but {withheld} of them are withheld so that the organisation's total"
            f" gives away no smaller group, leaving {shown.height}, and a link needs {MIN_WAVES}."
        )
    if shown.height < MIN_WAVES:
        return (
            f"Not assessed: {enough.height} waves had {MIN_N_ENGAGEMENT_GROUP} or more employee"
            f" answers, but only {shown.height} asked the empowerment questions, and a link needs"
            f" {MIN_WAVES}."
        )
    if not held and answers == 0:
        return f"Not assessed: {had} customers rate no contact this unit handles directly."
    if held and cases == 0:
        return f"Not assessed: {had} the unit held no customer cases to measure them against."
    if held and answers == 0:
        return f"Not assessed: {had} customers answered no survey on the {cases:,} cases it held."
    paired = shown.filter(pl.col("nps_following").is_not_null())
    if paired.height < MIN_WAVES:
        short = shown.filter(pl.col("nps_following").is_null() & (pl.col("months_after") > 0))
        if short.is_empty():
            return (
                f"Not assessed: {had} {shown.height - paired.height} of them came too recently"
                f" to be followed by customer answers, leaving {paired.height}, and a link needs"
                f" {MIN_WAVES}."
            )
        most = short["answers_most"].max() or 0
        about = " on the cases it held" if held else ""
        return (
            f"Not assessed: {had} only {paired.height} were followed within {_lag()} by a month"
            f" of {MIN_N_SURVEY} or more NPS answers{about} (the others had at most {most} a"
            f" month), and a link needs {MIN_WAVES}."
        )
    level = paired["empowerment_index"][0]
    return (
        f"Not assessed: empowerment was {level:.0%} in each of the {paired.height} waves, so"
        " nothing could move with it."
    )
