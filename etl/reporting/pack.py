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
from collections import Counter
from datetime import date
from pathlib import Path

import altair as alt
import duckdb
import polars as pl
from jinja2 import Environment, FileSystemLoader, select_autoescape

from etl.analyses import thresholds
from etl.analyses.drivers import SCHEMA as NPS_DRIVERS_SCHEMA
from etl.contract.metrics import METRICS, MIN_N_ENGAGEMENT_GROUP, MIN_N_SURVEY
from etl.errors import CxkpiError
from etl.reporting import scorecard, takeaways
from etl.reporting.formats import (
    VERDICTS,
    format_change,
    format_moment,
    format_value,
    money,
    whole_points,
)
from etl.reporting.lists import HEADLINES, TREND_MONTHS, TREND_OUTCOMES, TREND_PRODUCTIVITY
from etl.reporting.sentences import failure_demand_sentence, theme_evidence_sentence
from etl.warehouse.models import query

TEMPLATES = Path(__file__).resolve().parent / "templates"
SECTIONS = [
    "Headline KPIs",
    "What the analyses flag",
    "Productivity and customer outcomes",
    "KPI conflicts",
    "Departments and customer value",
    "What moves NPS",
    "Failure demand",
    "Department scorecard",
    "Initiatives",
    "Data quality",
    "How we know",
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
    card = _frame(con, query("frozen_scorecard"), {**ids, "month": month})
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
    failure = _failure_demand(con, snapshot_id, month)
    drivers = _drivers(con, snapshot_id)
    organisation_drivers = drivers.filter(pl.col("department_id") == "ALL")
    demand = _failure_section(con, snapshot_id, month)
    from etl.reporting.snapshot import MONTHLY_SOURCES

    inputs = json.loads(snapshot["inputs"])
    rows_loaded = sum(i["rows_loaded"] for i in inputs)
    rows_quarantined = sum(i["rows_quarantined"] for i in inputs)
    # A sentence is printed once: the flags carry the analyses' sentences (their statistics
    # moved to "How we know"), and a later section that would repeat one points back instead.
    flag_rows, asides = [], []
    words, quoted = _words(con, snapshot_id), Counter()
    for finding in findings.iter_rows(named=True):
        sentence, stats = takeaways.plain(finding["explanation"])
        # A department's next finding quotes its next theme, not the same comment again.
        department = finding["department_id"]
        said = words.get(department, [])
        flag_rows.append(
            {
                "headline": finding["headline"],
                "explanation": sentence,
                "words": said[quoted[department]] if quoted[department] < len(said) else None,
            }
        )
        quoted[department] += 1
        asides += [f"{finding['headline']}: {aside}." for aside in stats]
    printed = set(findings["explanation"].to_list())

    def once(sentence: str) -> str | None:
        return None if sentence in printed else takeaways.plain(sentence)[0]

    def leads(rows: pl.DataFrame) -> list[dict]:
        return [{**r, "explanation": once(r["explanation"])} for r in rows.to_dicts()]

    return {
        "snapshot": snapshot,
        "month": month.strftime("%B %Y"),
        "taken_at": format_moment(snapshot["taken_at"]),
        "changes": [line for line in snapshot["changes"].splitlines() if line],
        "analyses_span": f"{snapshot['analyses_from']:%B %Y} to {snapshot['analyses_to']:%B %Y}",
        "sections": SECTIONS,
        "trend_months": TREND_MONTHS,
        "takeaways": {
            "headlines": takeaways.headlines(headlines, month.replace(year=month.year - 1)),
            "flags": takeaways.flags(findings),
            "trends": takeaways.trends(trend, TREND_MONTHS),
            "conflicts": takeaways.conflicts(flagged),
            "value": takeaways.value(value),
            "demand": demand["takeaway"],
            "scorecard": takeaways.scorecard(card, month),
            "drivers": takeaways.drivers(organisation_drivers),
            "initiatives": takeaways.initiatives(initiatives),
            "data_quality": takeaways.data_quality(
                freshness, MONTHLY_SOURCES, rows_loaded, rows_quarantined
            ),
        },
        "headlines": _headline_rows(headlines),
        "failure_demand": failure,
        "demand": demand,
        "findings": flag_rows,
        "asides": asides,
        "flagged_organisation": leads(flagged.filter(pl.col("department_id") == "ALL")),
        "flagged_departments": leads(flagged.filter(pl.col("department_id") != "ALL")),
        "trend_productivity": _svg(_small_multiples(trend, TREND_PRODUCTIVITY)),
        "trend_outcomes": _svg(_small_multiples(trend, TREND_OUTCOMES)),
        "conflict_chart": _svg(_conflict_matrix(conflicts)) if conflicts.height else None,
        "quadrant": _svg(_quadrant(value)),
        "verdicts": _verdict_rows(value, once),
        "scorecard": scorecard.sections(card),
        "driver_chart": _driver_bars(organisation_drivers),
        "drivers_unclear": organisation_drivers.filter(
            pl.col("verdict") == "no clear effect"
        ).height,
        "driver_rows": _driver_rows(drivers),
        "initiatives": leads(initiatives),
        "freshness": freshness.to_dicts(),
        "inputs": inputs,
        "rows_loaded": rows_loaded,
        "rows_quarantined": rows_quarantined,
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


def _failure_demand(con: duckdb.DuckDBPyConnection, snapshot_id: str, month: date) -> str | None:
    """The organisation's failure-demand share as frozen, in a sentence; None for a snapshot
    taken before it was frozen."""
    frozen = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'snapshot_failure_demand_headline'"
    ).fetchall()
    if not frozen:
        return None
    row = _frame(
        con,
        "SELECT * FROM snapshot_failure_demand_headline WHERE snapshot_id = $id"
        " AND department_id = 'ALL' AND month = $month",
        {"id": snapshot_id, "month": month},
    )
    taken = _frame(
        con,
        "SELECT count(*) AS n FROM snapshot_failure_demand_headline WHERE snapshot_id = $id",
        {"id": snapshot_id},
    )
    if not taken["n"][0]:
        return None
    year_ago = month.replace(year=month.year - 1)
    return failure_demand_sentence(
        row.row(0, named=True) if row.height else None,
        month.strftime("%B %Y"),
        year_ago.strftime("%B %Y"),
    )


def _drivers(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> pl.DataFrame:
    """The snapshot's frozen nps_drivers rows, with the departments' names; none for a
    snapshot taken before they were frozen."""
    frozen = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'snapshot_nps_drivers'"
    ).fetchall()
    if not frozen:
        return pl.DataFrame(schema=NPS_DRIVERS_SCHEMA | {"department_name": pl.String})
    return _frame(
        con,
        "SELECT d.*, coalesce(v.department_name, d.department_id) AS department_name"
        " FROM snapshot_nps_drivers AS d LEFT JOIN (SELECT DISTINCT department_id,"
        " department_name FROM snapshot_department_value WHERE snapshot_id = $id) AS v"
        " USING (department_id) WHERE d.snapshot_id = $id ORDER BY department_name, driver",
        {"id": snapshot_id},
    )


def _driver_rows(frame: pl.DataFrame) -> list[dict]:
    """Per department, what costs its customers' NPS the most, or why that cannot be said."""
    rows = []
    for (department,), scope in frame.filter(pl.col("department_id") != "ALL").group_by(
        "department_name", maintain_order=True
    ):
        top = scope.filter(pl.col("costs_most"))
        n = int(scope["answers"].max() or 0)
        if top.height:
            row = top.row(0, named=True)
            rows.append(
                {
                    "department": department,
                    "driver": row["driver_label"],
                    "share": f"{row['prevalence']:.0%}",
                    "gap": f"{row['nps_gap']:+.0f} ({row['nps_gap_ci_low']:+.0f} to"
                    f" {row['nps_gap_ci_high']:+.0f})",
                    "answers": f"{n:,}",
                }
            )
        else:
            too_few = set(scope["verdict"]) == {"too few answers"}
            said = "too few answers linked to a case" if too_few else "no clear cost found"
            rows.append({"department": department, "driver": said, "share": "", "gap": "",
                         "answers": f"{n:,}"})  # fmt: skip
    return rows


def _driver_bars(frame: pl.DataFrame) -> str | None:
    """The organisation's drivers with a clear effect, as SVG; None when none has one."""
    from etl.reporting import charts

    clear = frame.filter(pl.col("verdict").is_in(["lower NPS", "higher NPS"]))
    if clear.is_empty():
        return None
    return _svg(charts.driver_bars(clear, label_limit=400).properties(width=230))


#: How many causing departments the pack's ledger lists.
LEDGER_ROWS = 5


def _frozen_table(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """The columns of a frozen table, empty where no snapshot has frozen it yet."""
    return {
        c
        for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = $t", {"t": table}
        ).fetchall()
    }


def _failure_section(con: duckdb.DuckDBPyConnection, snapshot_id: str, month: date) -> dict:
    """The failure-demand section from the frozen tables: the organisation's share by reason
    over the last 12 months (chart and totals), the departments whose failure demand others
    took most, and the net hours of each flagged faster handling. A snapshot taken before
    these were frozen says so and shows nothing else."""
    ids = {"id": snapshot_id, "month": month}
    months = pl.DataFrame()
    if _frozen_table(con, "snapshot_failure_demand_month"):
        months = _frame(
            con,
            "SELECT * FROM snapshot_failure_demand_month WHERE snapshot_id = $id"
            " AND department_id = 'ALL' AND month > $month - INTERVAL 12 MONTH"
            " AND month <= $month ORDER BY month",
            ids,
        )
    if months.is_empty():
        return {
            "frozen": False,
            "takeaway": "This snapshot was taken before failure demand by reason and department"
            " was frozen with the board figures, so it holds none to show here.",
        }
    from etl.reporting import charts

    contacts, failure = int(months["contacts"].sum()), int(months["failure_contacts"].sum())
    span = f"{months['month'].min():%B %Y} to {months['month'].max():%B %Y}"
    reasons = [
        {
            "reason": label,
            "contacts": f"{int(months[f'received_{r}'].sum()):,}",
            "share": f"{months[f'received_{r}'].sum() / contacts:.1%}" if contacts else "–",
        }
        for r, (label, _) in charts.FAILURE_REASONS.items()
    ]
    ledger = pl.DataFrame()
    if _frozen_table(con, "snapshot_failure_demand_ledger"):
        ledger = _frame(
            con,
            "SELECT * FROM snapshot_failure_demand_ledger WHERE snapshot_id = $id"
            " AND caused_elsewhere_contacts > 0"
            " ORDER BY caused_elsewhere_hours DESC, department_name LIMIT $rows",
            {"id": snapshot_id, "rows": LEDGER_ROWS},
        )
    share = f"{failure / contacts:.1%}" if contacts else "none"
    takeaway = (
        f"Over {span}, {share} of the organisation's contacts were failure demand"
        f" ({failure:,} of {contacts:,}), work that happens only because something was not done"
        " right the first time."
    )
    if ledger.height:
        top = ledger.row(0, named=True)
        takeaway = takeaway[:-1] + (
            f"; {top['department_name']}'s failures cost other departments the most,"
            f" {top['caused_elsewhere_hours']:,.0f} agent hours."
        )
    return {
        "frozen": True,
        "takeaway": takeaway,
        "span": span,
        "n": f"{contacts:,}",
        "reasons": reasons,
        "chart": _svg(charts.failure_share(months, height=170).properties(width=330)),
        "ledger": [_ledger_row(r) for r in ledger.iter_rows(named=True)],
        "ledger_window": (
            f"{ledger['first_month'][0]:%B %Y} to {ledger['last_month'][0]:%B %Y}"
            if ledger.height
            else ""
        ),
        "uncosted": bool(ledger.height) and ledger["cost_missing_for"].is_not_null().any(),
        "nets": _handling_nets(con, snapshot_id),
    }


def _ledger_row(row: dict) -> dict:
    def cost(value: float | None) -> str:
        return "not loaded" if value is None else money(value, places=0)

    return {
        "department": row["department_name"],
        "caused": f"{row['caused_elsewhere_hours']:,.0f}",
        "caused_cost": cost(row["caused_elsewhere_cost"]),
        "caused_n": f"{row['caused_elsewhere_contacts']:,}",
        "absorbed": f"{row['absorbed_hours']:,.0f}",
        "net": f"{row['net_hours_caused']:+,.0f}".replace("-", "−"),
    }


def _handling_nets(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> list[dict]:
    """Each flagged handle-time conflict's hours saved against its failure hours, a month, as
    frozen (one row per scope and productivity metric: the net does not depend on the
    outcome); none where the snapshot froze no such columns."""
    if "net_hours_lost" not in _frozen_table(con, "snapshot_kpi_conflicts"):
        return []
    frame = _frame(
        con,
        "SELECT DISTINCT department_id, department_name, productivity_metric, hours_saved,"
        " failure_hours_added, net_hours_lost, net_hours_lost_ci_low, net_hours_lost_ci_high"
        " FROM snapshot_kpi_conflicts WHERE snapshot_id = $id AND flagged"
        " AND net_hours_lost IS NOT NULL"
        " ORDER BY department_id <> 'ALL', department_name, productivity_metric",
        {"id": snapshot_id},
    )
    rows = []
    for r in frame.iter_rows(named=True):
        low, high = r["net_hours_lost_ci_low"], r["net_hours_lost_ci_high"]
        if low <= 0 <= high:
            verdict = "can't tell a loss from a gain"
        elif r["net_hours_lost"] > 0:
            verdict = f"a net loss of {r['net_hours_lost']:,.0f}"
        else:
            verdict = f"a net gain of {-r['net_hours_lost']:,.0f}"
        rows.append(
            {
                "who": "The organisation" if r["department_id"] == "ALL" else r["department_name"],
                "metric": METRICS[r["productivity_metric"]].label,
                "saved": f"{r['hours_saved']:,.0f}",
                "failure": f"{r['failure_hours_added']:,.0f}".replace("-", "−"),
                "net": verdict,
                "range": f"{-high:,.0f} to {-low:,.0f}".replace("-", "−"),
            }
        )
    return rows


def _words(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> dict[str, list[dict]]:
    """Per department, representative redacted comments as frozen, each with its theme's share:
    the shortest clear one of each of its three top themes, the theme most above the
    organisation's share first. Empty for a snapshot taken before the comments were frozen."""
    frozen = con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'snapshot_theme_evidence'"
    ).fetchall()
    if not frozen:
        return {}
    rows = _frame(
        con,
        "SELECT * FROM snapshot_theme_evidence WHERE snapshot_id = $id AND len(examples) > 0"
        " ORDER BY department_id, share - organisation_share DESC, theme_rank",
        {"id": snapshot_id},
    )
    words: dict[str, list[dict]] = {}
    for row in rows.iter_rows(named=True):
        words.setdefault(row["department_id"], []).append(
            {"comment": row["examples"][0], "evidence": theme_evidence_sentence(row)}
        )
    return words


def _labels() -> dict[str, str]:
    return {name: m.label for name, m in METRICS.items()}


def _tone(row: dict, change: str, clear: str) -> str:
    """How a change is printed: better or worse where clear of noise, unclear otherwise (a
    snapshot frozen before changes were judged prints them all plain)."""
    if row[change] is None or row.get(clear) is None:
        return ""
    if not row[clear]:
        return "unclear"
    return "better" if (row[change] > 0) == (row["better"] == "higher") else "worse"


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
                "previous_tone": _tone(row, "change_vs_previous", "is_change_clear"),
                "year_ago_tone": _tone(row, "change_vs_year_ago", "is_year_change_clear"),
                "better": "higher" if row["better"] == "higher" else "lower",
                "period": (
                    f"wave of {row['period']:%b %Y}"
                    if row["period"] is not None and row["period"] != row["month"]
                    else ""
                ),
            }
        )
    return shown


def _verdict_rows(frame: pl.DataFrame, once) -> list[dict]:
    """A department's verdict with its evidence in figures, and its sentence where that says
    more than the figures and was not printed among the flags (flagged then)."""
    order = list(VERDICTS)
    rows = sorted(
        frame.iter_rows(named=True), key=lambda r: (order.index(r["verdict"]), r["department_name"])
    )
    shown = []
    for r in rows:
        gap = (
            f"{whole_points(r['nps_gap'])} pts ({whole_points(r['nps_gap_ci_low'])} to"
            f" {whole_points(r['nps_gap_ci_high'])})"
            if r["nps_gap"] is not None
            else "not available"
        )
        targets = (
            f"{r['own_target_attainment']:.0%} of {r['own_target_months']}"
            if r["own_target_attainment"] is not None
            else "no own target"
        )
        sentence = once(r["explanation"])
        shown.append(
            {
                "department": r["department_name"],
                "verdict": VERDICTS[r["verdict"]][0],
                "colour": VERDICTS[r["verdict"]][1],
                "gap": gap,
                "answers": f"{r['nps_touched_n'] or 0:,}",
                "targets": targets,
                "flagged": sentence is None,
                # Neutral and no customer link: the verdict and the figures say it all.
                "explanation": sentence if r["verdict"] == "insufficient_data" else "",
            }
        )
    return shown


# --- charts ---------------------------------------------------------------------------------


def _small_multiples(trend: pl.DataFrame, metrics: list[str]) -> alt.FacetChart:
    from etl.reporting import charts

    return charts.small_multiples(trend.filter(pl.col("metric").is_in(metrics)), columns=2)


def _conflict_matrix(conflicts: pl.DataFrame) -> alt.LayerChart:
    from etl.reporting import charts

    cell = alt.selection_point(name="cell", fields=["productivity_metric", "outcome_metric"])
    return charts.conflict_matrix(conflicts, cell, printed=True).properties(width=420)


def _quadrant(value: pl.DataFrame) -> alt.LayerChart:
    from etl.reporting import charts

    return charts.quadrant(value, thresholds.TARGETS_MET_SHARE).properties(width=520, height=300)


def _svg(chart: alt.TopLevelMixin) -> str:
    """A chart as inline SVG, rendered by vl-convert without a browser.

    Its text is measured in the font the PDF draws it in (PRINT_FONT): measured in another,
    a legend's title and labels ran past the chart's edge and were cut."""
    from etl.reporting.charts import PRINT_FONT

    buffer = io.StringIO()
    chart.configure(font=PRINT_FONT).save(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]
