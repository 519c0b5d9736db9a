"""What moves NPS: each operational driver's importance, adjusted NPS gap and prevalence.

nps_driver_answers (a SQL mart) gives one row per survey answer linked to its case, with what
happened on the case as yes/no drivers. Per scope (the organisation, and each department with
enough answers) this module:

- regresses each answer's NPS points (100 promoter, 0 passive, -100 detractor: their mean is
  the NPS) on the drivers by ordinary least squares (statsmodels, with heteroskedasticity-
  robust HC3 errors). A driver's coefficient is the NPS points that go with it, adjusted for
  the other drivers, with a 95% interval; an interval that includes zero is "no clear effect".
- splits the model's R^2 between the drivers by Johnson's relative weights (relative_weights
  below), with a bootstrap 95% interval: importance that correlated drivers cannot steal from
  each other, which plain coefficients do not give.
- gives each driver's prevalence, so that prevalence x gap says where NPS is lost in total.

Association adjusted for the listed drivers, not proof of cause:
docs/methodology.md#nps_drivers-what-moves-nps.
"""

from __future__ import annotations

import numpy as np
import polars as pl

#: Answers a scope needs before its drivers are weighed (below it: "too few answers").
MIN_ANSWERS = 200
#: Answers a driver needs on each side (with it and without) to be weighed in a scope.
MIN_EACH_SIDE = 20
#: Bootstrap resamples for the importance interval.
BOOTSTRAP = 200
SEED = 20261203

#: The drivers, as nps_driver_answers names them, and how a sentence names them.
DRIVERS = {
    "unresolved_first_contact": "an unresolved first contact",
    "repeat_contact": "a repeat contact",
    "transferred": "a transfer",
    "promise_broken": "a broken promise",
    "handed_off": "a hand-off to a back office",
    "resolved_after_a_week": "more than a week to resolve",
    "long_wait": "a longer wait than the department's typical",
    "long_handle": "a longer call than the department's typical",
    "short_handle": "a shorter call than the department's typical",
}
#: The drivers with several values (nps_driver_answers' columns), each weighed as one yes/no
#: driver per value beside the scope's most common one (the reference): the channel, and the
#: back office a handed-off case went to. Their keys are the column, a colon and the value.
CATEGORIES = ("channel", "back_office_id")

SCHEMA = {
    "department_id": pl.String,
    "driver": pl.String,
    "driver_label": pl.String,
    "compared_with": pl.String,
    "answers": pl.Int64,
    "unlinked_answers": pl.Int64,
    "with_driver": pl.Int64,
    "prevalence": pl.Float64,
    "nps_with": pl.Float64,
    "nps_without": pl.Float64,
    "nps_gap": pl.Float64,
    "nps_gap_ci_low": pl.Float64,
    "nps_gap_ci_high": pl.Float64,
    "importance": pl.Float64,
    "importance_ci_low": pl.Float64,
    "importance_ci_high": pl.Float64,
    "importance_share": pl.Float64,
    "r_squared": pl.Float64,
    "nps_lost": pl.Float64,
    "verdict": pl.String,
    "explanation": pl.String,
    "costs_most": pl.Boolean,
    "headline": pl.String,
}


def relative_weights(rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    """Johnson's (2000) relative weights from the predictors' correlations (rxx) and their
    correlations with the outcome (rxy): each predictor's share of R^2; they sum to R^2.

    The predictors are replaced by their closest orthogonal counterparts Z = X Lambda^-1
    (Lambda = rxx^(1/2)); the outcome is regressed on Z (beta), and each predictor's weight
    is its squared loadings on Z times beta^2.
    """
    values, vectors = np.linalg.eigh(rxx)
    lam = vectors @ np.diag(np.sqrt(np.clip(values, 0, None))) @ vectors.T
    beta = np.linalg.pinv(lam) @ rxy  # drivers that coincide in a resample: no inverse
    return (lam**2) @ (beta**2)


def _weights(x: np.ndarray, y: np.ndarray, counts: np.ndarray | None = None) -> np.ndarray:
    """Relative weights of the drivers x for y; counts: how many answers each row stands for."""
    corr = _correlations(np.column_stack([x, y]), counts)
    return relative_weights(corr[:-1, :-1], corr[:-1, -1])


def _correlations(data: np.ndarray, counts: np.ndarray | None) -> np.ndarray:
    cov = np.cov(data, rowvar=False, fweights=counts)
    sd = np.sqrt(np.diag(cov))
    return cov / np.outer(sd, sd)


def nps_drivers(
    answers: pl.DataFrame, unlinked: dict[str, int], names: dict[str, str]
) -> pl.DataFrame:
    """One row per scope and driver (scope 'ALL' is the organisation); see the module."""
    rows = []
    scopes = [("ALL", answers)] + [
        (dept, answers.filter(pl.col("department_id") == dept))
        for dept in sorted(answers["department_id"].drop_nulls().unique())
    ]
    rng = np.random.default_rng(SEED)
    compared: dict[tuple[str, str], str] = {}
    for scope, frame in scopes:
        rows.extend(_scope(scope, frame, unlinked.get(scope, 0), names, rng, compared))
    if not rows:
        return pl.DataFrame(schema=SCHEMA)
    without = {k: v for k, v in SCHEMA.items() if k not in ("headline", "compared_with")}
    frame = pl.DataFrame(rows, schema=without, orient="row").with_columns(
        pl.struct("department_id", "driver")
        .map_elements(lambda r: compared.get((r["department_id"], r["driver"])), pl.String)
        .alias("compared_with")
    )
    return _costs_most(frame, names)


def _costs_most(frame: pl.DataFrame, names: dict[str, str]) -> pl.DataFrame:
    """Mark each scope's driver that costs the most NPS in total (the most negative
    prevalence x gap among those with a clear lower NPS), with a headline sentence."""
    lost = pl.when(pl.col("verdict") == "lower NPS").then(pl.col("nps_lost"))
    frame = frame.with_columns(
        (lost == lost.min().over("department_id")).fill_null(False).alias("costs_most")
    )
    return frame.with_columns(
        pl.when(pl.col("costs_most"))
        .then(
            pl.format(
                "In {}, {} costs the most NPS: it happens on {}% of cases and goes with {}"
                " points lower NPS (95% interval {} to {}).",
                pl.col("department_id").replace_strict(
                    {"ALL": "the organisation"} | names, default=pl.col("department_id")
                ),
                pl.col("driver_label"),
                (pl.col("prevalence") * 100).round(0).cast(pl.Int64),
                (-pl.col("nps_gap")).round(0).cast(pl.Int64),
                (-pl.col("nps_gap_ci_high")).round(0).cast(pl.Int64),
                (-pl.col("nps_gap_ci_low")).round(0).cast(pl.Int64),
            )
        )
        .alias("headline")
    ).select(list(SCHEMA))


def _scope(scope: str, frame: pl.DataFrame, unlinked: int, names: dict, rng,
           compared: dict) -> list[tuple]:  # fmt: skip
    where = "the organisation" if scope == "ALL" else (names.get(scope) or scope)
    n = frame.height
    if n < MIN_ANSWERS:
        return [
            _row(scope, d, DRIVERS, n, unlinked, verdict="too few answers",
                 explanation=f"{where}: too few answers linked to a case to weigh what moves"
                 f" NPS (n = {n} < {MIN_ANSWERS})")
            for d in DRIVERS
        ]  # fmt: skip
    frame, labels, references = _expanded(frame, names)
    compared.update({(scope, key): value for key, value in references.items()})
    usable, rows = _usable(frame, scope, n, unlinked, where, labels)
    if not usable:
        return rows
    complete = frame.select("nps_points", *usable).drop_nulls()
    x = complete.select(usable).to_numpy().astype(float)
    y = complete["nps_points"].to_numpy().astype(float)
    kept = _independent(x)
    for j in sorted(set(range(len(usable))) - set(kept)):
        present = int(x[:, j].sum())
        rows.append(
            _row(scope, usable[j], labels, n, unlinked, with_driver=present,
                 prevalence=present / len(x), verdict="tied to other drivers",
                 explanation=f"{where}: {labels[usable[j]]} is fully determined by the other"
                 " drivers on these cases (it happens exactly when some of them do, or"
                 " never without them), so its own effect cannot be told apart")
        )  # fmt: skip
    usable, x = [usable[j] for j in kept], x[:, kept]
    fit = _ols(x, y)
    weights = _weights(x, y)
    boot = _bootstrap(x, y, rng)
    r2 = float(weights.sum())
    for j, driver in enumerate(usable):
        has = x[:, j] == 1
        gap, low, high = fit[j]
        verdict = (
            "no clear effect" if low <= 0 <= high else "lower NPS" if gap < 0 else "higher NPS"
        )
        prevalence = float(has.mean())
        rows.append(
            _row(
                scope, driver, labels, len(y), unlinked,
                with_driver=int(has.sum()), prevalence=prevalence,
                nps_with=float(y[has].mean()), nps_without=float(y[~has].mean()),
                gap=(gap, low, high),
                importance=(float(weights[j]), *np.percentile(boot[:, j], [2.5, 97.5])),
                share=float(weights[j] / r2) if r2 > 0 else None, r2=r2,
                lost=prevalence * gap, verdict=verdict,
                explanation=_sentence(where, labels[driver], prevalence, gap, low, high, verdict),
            )
        )  # fmt: skip
    return rows


def _expanded(frame: pl.DataFrame, names: dict[str, str]) -> tuple[pl.DataFrame, dict, dict]:
    """The scope's answers with a yes/no column per value of each category (CATEGORIES)
    beside its most common value, every driver's label, and the value each such driver is
    compared with. A category with one value in the scope adds nothing; a back office is
    compared with the most common one among the handed-off cases (a case not handed off has
    none of them)."""
    labels, columns, references = dict(DRIVERS), [], {}
    for category in (c for c in CATEGORIES if c in frame.columns):
        counts = frame[category].drop_nulls().value_counts(sort=True, name="n")
        if counts.height < 2:
            continue
        reference, *others = counts.sort(["n", category], descending=[True, False])[category]
        for value in sorted(others):
            key = f"{category}:{value}"
            references[key] = reference
            if category == "channel":
                labels[key] = f"a contact by {value} rather than {reference}"
                column = pl.when(pl.col(category).is_not_null()).then(pl.col(category) == value)
            else:
                office, usual = (names.get(v, v) for v in (value, reference))
                labels[key] = f"a hand-off to {office} rather than to {usual}"
                column = (pl.col(category) == value).fill_null(False)
            columns.append(column.alias(key))
    return frame.with_columns(columns), labels, references


def _usable(frame: pl.DataFrame, scope: str, n: int, unlinked: int, where: str, labels: dict):
    """The drivers seen often enough both ways, and a row for each one that is not."""
    usable, rows, seen = [], [], {}
    for driver in labels:
        values = frame[driver].drop_nulls()
        present = int(values.sum())
        if present < MIN_EACH_SIDE or values.len() - present < MIN_EACH_SIDE:
            rows.append(
                _row(scope, driver, labels, n, unlinked, with_driver=present,
                     prevalence=present / values.len() if values.len() else None,
                     verdict="too rare to judge",
                     explanation=f"{where}: {labels[driver]} is on {present} of {values.len()}"
                     f" linked answers' cases, too few either way to weigh"
                     f" (at least {MIN_EACH_SIDE} each)")
            )  # fmt: skip
            continue
        key = tuple(frame[driver].fill_null(-1).cast(pl.Int8).to_list())
        if key in seen:  # the very same cases as another driver: one cannot be told apart
            rows.append(
                _row(scope, driver, labels, n, unlinked, with_driver=present,
                     prevalence=present / values.len(), verdict="same cases as another",
                     explanation=f"{where}: {labels[driver]} happened on exactly the cases"
                     f" with {labels[seen[key]]}; weighed as that one")
            )  # fmt: skip
            continue
        seen[key] = driver
        usable.append(driver)
    return usable, rows


def _independent(x: np.ndarray) -> list[int]:
    """The drivers (columns of x), in order, that are not a linear combination of the
    intercept and the drivers kept before them: a driver that is (say a hand-off that happens
    exactly when a transfer or a broken promise does) leaves the regression without a unique
    answer, so it is set aside and said to be tied."""
    kept: list[int] = []
    for j in range(x.shape[1]):
        basis = np.column_stack([np.ones(len(x)), x[:, [*kept, j]]])
        if np.linalg.matrix_rank(basis.T @ basis, hermitian=True) == len(kept) + 2:
            kept.append(j)
    return kept


def _ols(x: np.ndarray, y: np.ndarray) -> list[tuple[float, float, float]]:
    """Each driver's coefficient and 95% interval (HC3 errors), in NPS points."""
    from statsmodels.regression.linear_model import OLS

    # QR, not the default pseudo-inverse: _independent left a design of full rank, and the
    # pseudo-inverse of the whole answer table costs several times as much.
    result = OLS(y, np.column_stack([np.ones(len(y)), x])).fit(method="qr", cov_type="HC3")
    ci = result.conf_int(0.05)
    return [(float(result.params[j + 1]), float(ci[j + 1][0]), float(ci[j + 1][1]))
            for j in range(x.shape[1])]  # fmt: skip


def _bootstrap(x: np.ndarray, y: np.ndarray, rng) -> np.ndarray:
    """Relative weights of BOOTSTRAP resamples of the answers. Drivers are yes/no and the
    points take three values, so the answers fall into at most 3 x 2^drivers patterns: each
    resample draws the patterns' counts (a multinomial draw is an ordinary bootstrap of the
    answers) and weighs the patterns, instead of copying every answer."""
    data = np.column_stack([x, y])
    codes = x @ (2.0 ** np.arange(x.shape[1])) + (y / 100 + 1) * 2.0 ** x.shape[1]
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    patterns = data[first]
    drawn = rng.multinomial(len(y), counts / counts.sum(), size=BOOTSTRAP)
    out = np.full((BOOTSTRAP, x.shape[1]), np.nan)
    for b, weights in enumerate(drawn):
        kept = weights > 0
        sample = patterns[kept]
        if len(sample) < 2 or np.any(np.ptp(sample, axis=0) == 0):
            continue  # a driver or the points did not vary in this resample
        out[b] = _weights(sample[:, :-1], sample[:, -1], weights[kept])
    return out[~np.isnan(out).any(axis=1)]


def _sentence(where, what, prevalence, gap, low, high, verdict) -> str:
    share = f"{prevalence:.0%} of cases"
    if verdict == "no clear effect":
        return (
            f"{where}: {what} ({share}) shows no clear effect on NPS: {_points(gap)} points,"
            f" 95% interval {_points(low)} to {_points(high)}, adjusted for the other drivers"
        )
    direction = "lower" if gap < 0 else "higher"
    return (
        f"{where}: {what} happens on {share} and goes with {abs(gap):.0f} points {direction}"
        f" NPS (95% interval {abs(high if gap < 0 else low):.0f} to"
        f" {abs(low if gap < 0 else high):.0f}), adjusted for the other drivers"
    )


def _points(value: float) -> str:
    """Signed whole points, never '-0'."""
    return f"{round(value):+d}" if round(value) else "0"


def _row(scope, driver, labels, n, unlinked, with_driver=None, prevalence=None, nps_with=None,
         nps_without=None, gap=(None, None, None), importance=(None, None, None), share=None,
         r2=None, lost=None, verdict=None, explanation=None) -> tuple:  # fmt: skip
    return (
        scope, driver, labels[driver], n, unlinked, with_driver, prevalence, nps_with,
        nps_without, *gap, *importance, share, r2, lost, verdict, explanation, False,
    )  # fmt: skip
