"""The board pack's charts: every legend title and label fits inside its chart as the PDF
draws it, the conflict matrix's legend is a gradient, and money and moments read as a person
expects (the formats the pack and the pages share)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime

import altair as alt
import polars as pl
import pytest
from PIL import ImageFont

from etl.reporting import charts, pack
from etl.reporting.formats import format_change, format_moment, format_value
from etl.settings import SettingError

FONTS = {
    False: "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    True: "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
}
SVG = "{http://www.w3.org/2000/svg}"


def _conflicts() -> pl.DataFrame:
    rows = [
        ("aht_seconds", "handle time", outcome, label, association)
        for outcome, label, association in (
            ("nps", "NPS", -0.9),
            ("fcr_rate", "first-contact resolution", 0.4),
            ("csat", "satisfaction (CSAT)", 0.0),
        )
    ]
    frame = pl.DataFrame(
        rows,
        schema=["productivity_metric", "productivity_label", "outcome_metric", "outcome_label"]
        + ["association"],
        orient="row",
    )
    return frame.with_columns(q_value=pl.lit(0.01), n_periods=pl.lit(24), flagged=pl.lit(False))


def _departments() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "department_name": ["Claims Processing", "Billing", "Quality Assurance"],
            "verdict": ["watermelon", "destroys_value", "no_customer_link"],
            "own_target_attainment": [1.0, 0.42, 0.9],
            "nps_gap": [-70.0, -18.0, 0.0],
            "nps_gap_ci_low": [-72.0, -20.0, -1.0],
            "nps_gap_ci_high": [-68.0, -16.0, 1.0],
            "nps_touched_n": [2323, 10110, 40],
        }
    )


def _legend_overflow(svg: str) -> list[str]:
    """Legend texts that run past the chart's right edge, measured in the font drawn."""
    root = ET.fromstring(svg)
    width = float(root.get("width"))
    out = []

    def walk(node, x: float, role: str) -> None:
        match = re.search(r"translate\(([-\d.]+),", node.get("transform", ""))
        x += float(match.group(1)) if match else 0.0
        role = node.get("class", role) if "role-legend" in node.get("class", "") else role
        if node.tag == f"{SVG}text" and "role-legend" in role:
            size = float(node.get("font-size", "10px").rstrip("px"))
            font = ImageFont.truetype(FONTS[node.get("font-weight") == "bold"], size)
            lines = [t.text or "" for t in node.iter(f"{SVG}tspan")] or [node.text or ""]
            for line in lines:
                if x + font.getlength(line) > width + 0.5:
                    out.append(line)
            return
        for child in node:
            walk(child, x, role)

    walk(root, 0.0, "")
    return out


def test_the_packs_legends_fit_inside_their_charts():
    cell = alt.selection_point(name="cell", fields=["productivity_metric", "outcome_metric"])
    matrix = pack._svg(charts.conflict_matrix(_conflicts(), cell, printed=True))
    quadrant = pack._svg(pack._quadrant(_departments()))
    assert _legend_overflow(matrix) == []
    assert _legend_overflow(quadrant) == []
    assert "no customer link" in quadrant


def test_the_conflict_matrix_legend_in_the_pack_is_a_tall_gradient_in_words():
    cell = alt.selection_point(name="cell", fields=["productivity_metric", "outcome_metric"])
    svg = pack._svg(charts.conflict_matrix(_conflicts(), cell, printed=True))
    assert "<linearGradient" in svg and 'fill="url(#gradient_' in svg
    bar = re.search(r'<path[^>]*d="M0,0h(\d+)v(\d+)h-\d+Z"[^>]*fill="url\(#gradient', svg)
    assert bar and int(bar.group(2)) >= 100, "the gradient is too short to read"
    assert ">worse<" in svg and ">better too<" in svg
    # The page keeps its own legend: the shared chart is unchanged without printed.
    page = charts.conflict_matrix(_conflicts(), cell).to_dict()
    assert page["layer"][0]["encoding"]["color"]["title"] == "association"


def test_money_follows_the_currency_setting(monkeypatch):
    monkeypatch.delenv("CXKPI_CURRENCY", raising=False)
    assert format_value("cost_per_contact", 9.374) == "€9.37"
    assert format_change("cost_per_contact", -0.06) == "-€0.06"
    monkeypatch.setenv("CXKPI_CURRENCY", "GBP")
    assert format_value("cost_per_contact", 1234.5) == "£1,234.50"
    monkeypatch.setenv("CXKPI_CURRENCY", "CHF")
    assert format_value("cost_per_contact", 9.374) == "9.37 CHF"
    assert format_change("cost_per_contact", 0.06) == "+0.06 CHF"
    monkeypatch.setenv("CXKPI_CURRENCY", "eur")
    with pytest.raises(SettingError, match=r"^CXKPI_CURRENCY='eur' is not a three-letter"):
        format_value("cost_per_contact", 9.374)
    # Other units are untouched.
    assert format_value("aht_seconds", 408.2) == "408 s"


def test_a_moment_carries_its_time_zone(monkeypatch):
    monkeypatch.delenv("CXKPI_TIMEZONE", raising=False)
    assert format_moment(datetime(2026, 11, 30, 14, 2)) == "2026-11-30 14:02 UTC"
    monkeypatch.setenv("CXKPI_TIMEZONE", "Europe/Amsterdam")
    assert format_moment(datetime(2026, 11, 30, 14, 2)) == "2026-11-30 15:02 CET"
    assert format_moment(datetime(2026, 7, 30, 14, 2)) == "2026-07-30 16:02 CEST"
