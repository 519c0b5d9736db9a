"""department_value's case-level model: its fit from cell counts equals statsmodels' OLS on the
answers one by one, and it refuses comparisons the data cannot make."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest
import statsmodels.api as sm

from etl.analyses import fit_case_model

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


def answers_one_by_one(model) -> tuple[np.ndarray, np.ndarray]:
    """The design and outcome with one row per answer, built independently of the fit."""
    x, y = [], []
    for o, c, m, h1, h2, p, s, d in CELLS:
        row = np.zeros(len(model.columns))
        opened = "handed" if h1 else "own"
        for key in ((opened, o), ("handler", h1), ("handler", h2), ("channel", c),
                    ("month", str(date(2026, m, 1)))):  # fmt: skip
            if key in model.columns:
                row[model.columns[key]] = 1
        for value, count in ((100, p), (0, s), (-100, d)):
            x += [row] * count
            y += [value] * count
    return np.array(x), np.array(y, dtype=float)


@pytest.mark.parametrize(
    ("unit", "others"),
    [
        (("own", "A"), [("own", "B"), ("own", "C")]),
        (("own", "C"), [("own", "A")]),
        (("handler", "X"), [("handler", "Y")]),
    ],
)
def test_the_fit_from_cells_equals_ols_with_robust_errors_on_each_answer(unit, others):
    model = fit_case_model(cells())
    x, y = answers_one_by_one(model)
    ols = sm.OLS(y, x).fit(cov_type="HC1")
    c = np.zeros(len(model.columns))
    c[model.columns[unit]] = 1
    for other in others:
        c[model.columns[other]] -= 1 / len(others)
    gap, se = model.contrast(unit, others)
    assert gap == pytest.approx(c @ ols.params, abs=1e-9)
    assert se == pytest.approx(np.sqrt(c @ ols.cov_params() @ c), rel=1e-9)


def test_a_back_office_fed_only_by_units_no_other_back_office_serves_cannot_be_compared():
    # X only ever sees cases from A, and A hands cases to no one else: X's work and A's
    # handed-off case mix are one and the same in the data.
    rows = [r for r in CELLS if r[3] != "X" and r[4] != "X"] + [
        ("A", "phone", 1, "X", None, 6, 3, 10)
    ]
    rows = [r for r in rows if not (r[0] == "A" and r[3] == "Y")]
    model = fit_case_model(cells(rows))
    assert model.contrast(("handler", "X"), [("handler", "Y")]) is None
    assert model.contrast(("own", "A"), [("own", "B")]) is not None


def test_no_answers_no_model():
    assert fit_case_model(cells().clear()) is None
