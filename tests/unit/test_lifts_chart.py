"""The initiatives chart: lifts in the unit people read, a line at no change, labels apart."""

from __future__ import annotations

import polars as pl

from etl.reporting import charts


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "title": ["A (first-contact resolution)"] * 2,
            "panel": ["A: first-contact resolution, points (↑ better)"] * 2,
            "initiative_name": ["A"] * 2,
            "stage": ["after 1 month", "after 3-6 months"],
            "lift": [0.129, 0.016],
            "low": [0.113, 0.007],
            "high": [0.144, 0.025],
            "shown_lift": [12.9, 1.6],
            "shown_low": [11.3, 0.7],
            "shown_high": [14.4, 2.5],
            "shown_unit": ["points"] * 2,
        }
    )


def test_the_lifts_chart_draws_points_a_zero_line_and_two_line_labels():
    spec = charts.lifts(_frame()).to_dict()
    layers = spec["spec"]["layer"]
    rules = [la for la in layers if la["mark"] == "rule" or la["mark"].get("type") == "rule"]
    assert len(rules) == 1
    # One line across the panel: a rule with an x encoding draws a tick per stage instead.
    assert rules[0]["encoding"] == {"y": {"datum": 0}}
    points = [
        la
        for la in layers
        if (la["mark"].get("type") if isinstance(la["mark"], dict) else la["mark"]) == "point"
    ]
    assert points[0]["encoding"]["y"]["field"] == "shown_lift"
    bars = [la for la in layers if "y2" in la.get("encoding", {})]
    assert bars[0]["encoding"]["y"]["field"] == "shown_low"
    assert "replace(datum.label, 'after ', '')" in points[0]["encoding"]["x"]["axis"]["labelExpr"]
    assert spec["facet"]["field"] == "panel"
    values = spec["datasets"][next(iter(spec["datasets"]))]
    assert [v["shown_lift"] for v in values] == [12.9, 1.6]
