"""department_value's case-level model: its fit from cell counts equals statsmodels' OLS on the
answers one by one, and it refuses comparisons the data cannot make."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from etl.analyses.department_value import fit_case_model

# origin, channel, month, first handler, second handler, promoters, passives, detractors
CELLS = [
    ("A", "phone", 1, None, None, 30, 10, 8),
    ("A", "chat", 2, None, None, 12, 9, 15),
    ("B", "phone", 1, None, None, 20, 15, 20),
    ("B", "chat", 1, None, None, 5, 5, 12),
    ("C", "phone", 2, None, None, 18, 4, 9),
    ("A", "phone", 1, "X", None, 6, 3, 10),
    ("B", "phone", 2, "X", None, 4, 6, 9),
    ("B", "chat", 1, "Y", None, 9, 2, 3),
    ("C", "phone", 1, "Y", None, 7, 7, 2),
    ("C", "chat", 2, "X", "Y", 2, 3, 6),
]


def cells(rows=CELLS) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (o, c, date(2026, m, 1), h1, h2, p + s + d, p, d)
            for o, c, m, h1, h2, p, s, d in rows
        ],
        schema=["origin_department_id", "channel", "month", "first_handler_id",
                "second_handler_id", "answers", "promoters", "detractors"],
        orient="row",
    )  # fmt: skip


def answers_one_by_one(model, split: bool) -> tuple[np.ndarray, np.ndarray]:
    """The design and outcome with one row per answer, built independently of the fit."""
    x, y = [], []
    for o, c, m, h1, h2, p, s, d in CELLS:
        row = np.zeros(len(model.columns))
        opened = ("handed" if h1 else "kept") if split else "origin"
        for key in ((opened, o), ("handler", h1), ("handler", h2), ("channel", c),
                    ("month", str(date(2026, m, 1)))):  # fmt: skip
            if key in model.columns:
                row[model.columns[key]] = 1
        for value, count in ((100, p), (0, s), (-100, d)):
            x += [row] * count
            y += [value] * count
    return np.array(x), np.array(y, dtype=float)


@pytest.mark.parametrize(
    ("split", "unit", "others"),
    [
        (True, ("kept", "A"), [("kept", "B"), ("kept", "C")]),
        (True, ("kept", "C"), [("kept", "A")]),
        (True, ("handler", "X"), [("handler", "Y")]),
        (False, ("origin", "A"), [("origin", "B"), ("origin", "C")]),
        (False, ("handler", "X"), [("handler", "Y")]),
    ],
)
def test_the_fit_from_cells_equals_ols_with_robust_errors_on_each_answer(split, unit, others):
    model = fit_case_model(cells(), split)
    x, y = answers_one_by_one(model, split)
    ols = sm.OLS(y, x).fit(cov_type="HC1")
    c = np.zeros(len(model.columns))
    c[model.columns[unit]] = 1
    for other in others:
        c[model.columns[other]] -= 1 / len(others)
    gap, se = model.contrast(unit, others)
    assert gap == pytest.approx(c @ ols.params, abs=1e-9)
    assert se == pytest.approx(np.sqrt(c @ ols.cov_params() @ c), rel=1e-9)


# X only ever sees cases from A, and A hands cases to no one else.
ONLY_FROM_A = [
    r for r in CELLS if r[3] != "X" and r[4] != "X" and not (r[0] == "A" and r[3] == "Y")
] + [("A", "phone", 1, "X", None, 6, 3, 10)]


def test_split_a_back_office_fed_only_by_units_no_other_back_office_serves_is_its_case_mix():
    # Split, what X does and what A's handed-off cases are like are one and the same.
    model = fit_case_model(cells(ONLY_FROM_A), split=True)
    assert model.contrast(("handler", "X"), [("handler", "Y")]) is None
    assert model.contrast(("kept", "A"), [("kept", "B")]) is not None


def test_unsplit_a_back_office_is_judged_net_of_the_unit_that_feeds_it():
    # One effect for A on all its cases, measured on those it keeps: X is compared through it.
    model = fit_case_model(cells(ONLY_FROM_A), split=False)
    assert model.contrast(("handler", "X"), [("handler", "Y")]) is not None


def test_unsplit_a_unit_that_keeps_no_case_leaves_its_back_office_unjudged():
    # D keeps none of its cases and feeds only Z: Z's work and D's effect cannot be told apart.
    rows = [*CELLS, ("D", "phone", 1, "Z", None, 5, 2, 9), ("D", "chat", 2, "Z", None, 3, 1, 4)]
    model = fit_case_model(cells(rows), split=False)
    assert model.contrast(("handler", "Z"), [("handler", "Y")]) is None
    assert model.contrast(("handler", "X"), [("handler", "Y")]) is not None


@pytest.mark.parametrize("split", [True, False])
def test_no_answers_no_model(split):
    assert fit_case_model(cells().clear(), split) is None
