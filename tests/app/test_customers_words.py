"""Customers' words under AppTest: the unreliable-theme flag on a warehouse with a weak theme."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from dashboard import data
from etl.warehouse import models
from tests.app.test_pages import open_app, texts

#: The theme made weak in the copy, and its F1 there (the shipped taxonomy has none under 0.5).
WEAK, WEAK_LABEL, WEAK_F1 = "staff_attitude", "Staff attitude", 0.42


@pytest.fixture(autouse=True, scope="module")
def _close_the_dashboards_connections():
    yield
    data.clear_cache()


@pytest.fixture
def weak_theme(sample_copy: Path) -> Path:
    """The sample warehouse with one theme measured below 0.5 F1 on the labelled comments."""
    con = duckdb.connect(str(sample_copy))
    try:
        con.execute(
            "UPDATE theme_taxonomy SET f1 = $f1, reliable = false WHERE theme_id = $theme",
            {"f1": WEAK_F1, "theme": WEAK},
        )
        # The marts that read the measure are tables: rebuilt from it, as a build does.
        found = models.discover()
        for model in models.ordered(found):
            if model.name in models.downstream(found, {"theme_taxonomy"}):
                models._create(con, model, None)
        labels = [r[0] for r in con.sql("SELECT theme_label FROM theme_taxonomy").fetchall()]
    finally:
        con.close()
    assert WEAK_LABEL in labels and len(labels) > 5
    return sample_copy


def table(app, column: str):
    """The rows of the page's table with that column, as a pandas frame."""
    [frame] = [d.value for d in app.dataframe if column in d.value.columns]
    return frame


def test_a_theme_under_half_f1_is_flagged_by_name_and_no_other_is(weak_theme, monkeypatch):
    app = open_app(weak_theme, monkeypatch, "customers_words")
    assert not app.exception, app.exception
    [warning] = app.warning
    others = set(data.fetch("SELECT theme_label FROM theme_taxonomy")["theme_label"]) - {WEAK_LABEL}
    assert f"**{WEAK_LABEL}** (F1 {WEAK_F1:.2f})" in warning.value
    assert not [o for o in others if o in warning.value]
    assert "Every theme is reliable" not in texts(app)
    readings = table(app, "Reading")
    marked = set(readings.loc[readings["Reading"] == "unreliable", "Theme"])
    assert marked == {WEAK_LABEL}
    rising = table(app, "Change")
    assert set(rising.loc[rising["Theme"].str.endswith(" (unreliable)"), "Theme"]) == {
        f"{WEAK_LABEL} (unreliable)"
    }
    assert set(rising["Theme"]) - {f"{WEAK_LABEL} (unreliable)"} == others
    assert heatmap_rows(app) == set(rising["Theme"])


def heatmap_rows(app) -> set[str]:
    """The row labels of the page's theme heatmap (its y axis's order)."""
    [chart] = [e for e in app.main if e.type == "vega_lite_chart"]
    spec = json.loads(chart.proto.spec)
    return set(spec["layer"][0]["encoding"]["y"]["sort"])


def test_the_shipped_taxonomy_flags_nothing_and_says_so(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, "customers_words")
    assert not app.exception, app.exception
    assert not app.warning
    assert "Every theme is reliable" in texts(app)
    assert "(unreliable)" not in "".join(table(app, "Change")["Theme"])
