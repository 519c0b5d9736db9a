"""The board pack of a snapshot: HTML from a template, charts as SVG, PDF with WeasyPrint.

Everything is read from the frozen `snapshot_*` tables, never from the live views, so the
pack shows exactly what was frozen. Charts are the dashboard's own Altair charts
(etl/reporting/charts.py), rendered offline to SVG by vl-convert (no browser); WeasyPrint lays
out the HTML and its inline SVG as an A4 PDF (no browser either).
"""

from __future__ import annotations

import io
import json
import logging
from datetime import date
from pathlib import Path

import altair as alt
import duckdb
import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from etl.analyses import thresholds
from etl.contract.metrics import METRICS, MIN_N_ENGAGEMENT_GROUP, MIN_N_SURVEY
from etl.errors import CxkpiError
from etl.reporting.formats import VERDICTS, format_change, format_value
from etl.reporting.lists import (
    HEADLINES,
    SCORECARD,
    TREND_MONTHS,
    TREND_OUTCOMES,
    TREND_PRODUCTIVITY,
)
from etl.warehouse.models import query

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTIONS = [
    "Headline KPIs",
    "What the analyses flag",
    "Productivity and customer outcomes",
    "KPI conflicts",
    "Departments and customer value",
    "Department scorecard",
    "Appendix: data quality and methodology",
]


def render(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> tuple[str, bytes, int]:
    """The pack of a snapshot as (HTML, PDF bytes, number of PDF pages)."""
    # WeasyPrint logs every CSS property it does not support at WARNING; the pack's CSS is ours.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        from weasyprint import HTML
    except OSError as error:  # WeasyPrint loads Pango from the system when imported
        raise CxkpiError(
            f"the PDF board pack needs Pango from the system ({str(error).splitlines()[0]}):"
            " on Debian, apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
        ) from None

    html = render_html(con, snapshot_id)
    document = HTML(string=html, base_url=str(TEMPLATES)).render()
    return html, document.write_pdf(), len(document.pages)


def render_html(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> str:
    """The pack as one self-contained HTML page (charts inline)."""
    context = _context(con, snapshot_id)
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    return environment.get_template("board_pack.html").render(**context)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pl.DataFrame:
    frame = con.sql(sql, params=params).pl()
    # vl-convert cannot serialise DECIMAL; the pack shows no more precision than a double.
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def _context(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> dict:
    ids = {"id": snapshot_id}
    snapshot = _frame(con, "SELECT * FROM board_snapshots WHERE snapshot_id = $id", ids).row(
        0, named=True
    )
    month: date = snapshot["month"]
    headlines = _frame(
        con,
        "SELECT * FROM snapshot_kpi_headlines WHERE snapshot_id = $id"
        " AND department_id = 'ALL' AND month = $month",
        {**ids, "month": month},
    )
    trend = _frame(
        con,
        "SELECT * FROM snapshot_kpi_headlines WHERE snapshot_id = $id AND department_id = 'ALL'"
        " AND period = month AND month > $month - INTERVAL (($months)) MONTH"
        " ORDER BY metric, month",
        {**ids, "month": month, "months": TREND_MONTHS},
    )
    conflicts = _frame(
        con,
        "SELECT * FROM snapshot_kpi_conflicts WHERE snapshot_id = $id AND department_id = 'ALL'"
        " ORDER BY productivity_metric, outcome_metric",
        ids,
    ).with_columns(
        productivity_label=pl.col("productivity_metric").replace_strict(_labels()),
        outcome_label=pl.col("outcome_metric").replace_strict(_labels()),
    )
    flagged = _frame(con, query("frozen_conflict_leads"), ids)
    value = _frame(
        con,
        "SELECT * FROM snapshot_department_value WHERE snapshot_id = $id ORDER BY department_name",
        ids,
    )
    scorecard = _frame(
        con,
        "SELECT * FROM snapshot_department_month WHERE snapshot_id = $id AND month = $month"
        " ORDER BY department_name",
        {**ids, "month": month},
    )
    findings = _frame(
        con, "SELECT * FROM snapshot_findings WHERE snapshot_id = $id ORDER BY rank", ids
    )
    freshness = _frame(
        con,
        "SELECT * FROM snapshot_source_freshness WHERE snapshot_id = $id ORDER BY source",
        ids,
    )
    initiatives = _frame(
        con,
        "SELECT * FROM snapshot_initiative_effects WHERE snapshot_id = $id ORDER BY started_on",
        ids,
    )
    inputs = json.loads(snapshot["inputs"])
    return {
        "snapshot": snapshot,
        "month": month.strftime("%B %Y"),
        "taken_on": snapshot["taken_at"].strftime("%d %B %Y"),
        "changes": [line for line in snapshot["changes"].splitlines() if line],
        "analyses_span": f"{snapshot['analyses_from']:%B %Y} to {snapshot['analyses_to']:%B %Y}",
        "sections": SECTIONS,
        "trend_months": TREND_MONTHS,
        "headlines": _headline_rows(headlines),
        "findings": findings.to_dicts(),
        "flagged_organisation": flagged.filter(pl.col("department_id") == "ALL").to_dicts(),
        "flagged_departments": flagged.filter(pl.col("department_id") != "ALL").to_dicts(),
        "trend_productivity": _svg(_small_multiples(trend, TREND_PRODUCTIVITY)),
        "trend_outcomes": _svg(_small_multiples(trend, TREND_OUTCOMES)),
        "conflict_chart": _svg(_conflict_matrix(conflicts)) if conflicts.height else None,
        "quadrant": _svg(_quadrant(value)),
        "verdicts": _verdict_rows(value),
        "scorecard_columns": [METRICS[m].label for m in SCORECARD],
        "scorecard": _scorecard_rows(scorecard, value),
        "initiatives": initiatives.to_dicts(),
        "freshness": freshness.to_dicts(),
        "inputs": inputs,
        "rows_loaded": sum(i["rows_loaded"] for i in inputs),
        "rows_quarantined": sum(i["rows_quarantined"] for i in inputs),
        "method": {
            "min_n_survey": MIN_N_SURVEY,
            "min_n_group": MIN_N_ENGAGEMENT_GROUP,
            "min_periods": thresholds.MIN_PERIODS,
            "fdr": thresholds.FDR,
            "material_relative": f"{thresholds.MATERIAL_RELATIVE_CHANGE:.0%}",
            "value_window": thresholds.VALUE_WINDOW_MONTHS,
            "nps_gap": f"{thresholds.MATERIAL_NPS_GAP:g}",
            "targets_met": f"{thresholds.TARGETS_MET_SHARE:.0%}",
        },
    }


def _labels() -> dict[str, str]:
    return {name: m.label for name, m in METRICS.items()}


def _headline_rows(frame: pl.DataFrame) -> list[dict]:
    rows = {r["metric"]: r for r in frame.iter_rows(named=True)}
    shown = []
    for metric in (m for m in HEADLINES if m in rows):
        row = rows[metric]
        has_value = row["value"] is not None
        shown.append(
            {
                "label": row["label"][0].upper() + row["label"][1:],
                "value": format_value(metric, row["value"]) if has_value else row["note"],
                "withheld": not has_value,
                "n": f"{row['n']:,}",
                "interval": (
                    f"{row['ci_low']:+.1f} to {row['ci_high']:+.1f}"
                    if row["ci_low"] is not None
                    else ""
                ),
                "previous": format_change(metric, row["change_vs_previous"]) or "–",
                "year_ago": format_change(metric, row["change_vs_year_ago"]) or "–",
                "better": "higher" if row["better"] == "higher" else "lower",
                "period": (
                    f"wave of {row['period']:%b %Y}"
                    if row["period"] is not None and row["period"] != row["month"]
                    else ""
                ),
            }
        )
    return shown


def _verdict_rows(frame: pl.DataFrame) -> list[dict]:
    order = list(VERDICTS)
    rows = sorted(
        frame.iter_rows(named=True), key=lambda r: (order.index(r["verdict"]), r["department_name"])
    )
    return [
        {
            "department": r["department_name"],
            "verdict": VERDICTS[r["verdict"]][0],
            "colour": VERDICTS[r["verdict"]][1],
            "explanation": r["explanation"],
        }
        for r in rows
    ]


def _scorecard_rows(frame: pl.DataFrame, value: pl.DataFrame) -> list[dict]:
    verdicts = dict(value.select("department_id", "verdict").iter_rows())
    rows = []
    for r in frame.iter_rows(named=True):
        cells = []
        for metric in SCORECARD:
            figure = r[metric]
            note = r[f"{metric}_note"]
            cells.append(
                {
                    "value": format_value(metric, figure) if figure is not None else note or "–",
                    "n": f"n = {r[f'{metric}_n']:,}" if METRICS[metric].min_n > 1 else "",
                    "withheld": figure is None,
                }
            )
        verdict = verdicts.get(r["department_id"])
        rows.append(
            {
                "department": r["department_name"],
                "function": (r["department_function"] or "").replace("_", " "),
                "cells": cells,
                "verdict": VERDICTS[verdict][0] if verdict else "–",
            }
        )
    return rows


# --- charts ---------------------------------------------------------------------------------


def _small_multiples(trend: pl.DataFrame, metrics: list[str]) -> alt.FacetChart:
    from etl.reporting import charts

    return charts.small_multiples(trend.filter(pl.col("metric").is_in(metrics)), columns=2)


def _conflict_matrix(conflicts: pl.DataFrame) -> alt.LayerChart:
    from etl.reporting import charts

    cell = alt.selection_point(name="cell", fields=["productivity_metric", "outcome_metric"])
    return charts.conflict_matrix(conflicts, cell).properties(width=420)


def _quadrant(value: pl.DataFrame) -> alt.LayerChart:
    from etl.reporting import charts

    return charts.quadrant(value, thresholds.TARGETS_MET_SHARE).properties(width=560, height=330)


def _svg(chart: alt.TopLevelMixin) -> str:
    """A chart as inline SVG, rendered by vl-convert without a browser."""
    buffer = io.StringIO()
    chart.save(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]
