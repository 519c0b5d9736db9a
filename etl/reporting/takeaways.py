"""The board pack's takeaways: one plain sentence per section, written from the frozen figures.

Each function reads the frame its section shows and says what a board member should take
from it, naming the department and the figure; none uses a statistical term (those are in the
pack's "How we know"). A section with nothing to say says so.
"""

from __future__ import annotations

import re
from datetime import date

import polars as pl

from etl.analyses import thresholds
from etl.contract.metrics import METRICS
from etl.reporting.formats import format_change, format_value, missing
from etl.reporting.lists import HEADLINES, TREND_OUTCOMES, TREND_PRODUCTIVITY

_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
#: Statistical asides of the analyses' sentences: "(Pearson +0.99 over 7 waves, q = 0.000)".
_STATISTICS = re.compile(
    r"\s*\((?=[^()]*\b(?:Pearson|Spearman|q = |p = |Benjamini|Welch|Wilson))[^()]*\)"
)


def number(count: int) -> str:
    """3 -> 'three' (up to ten), 11 -> '11'."""
    return _WORDS[count] if 0 <= count < len(_WORDS) else f"{count:,}"


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def listed(items: list[str]) -> str:
    """['a', 'b', 'c'] -> 'a, b and c'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def plain(sentence: str) -> tuple[str, list[str]]:
    """A sentence of the analyses without its statistical asides, and the asides (for "How
    we know")."""
    asides = [m.group(0).strip()[1:-1] for m in _STATISTICS.finditer(sentence)]
    return _STATISTICS.sub("", sentence), asides


def _zero(shown: str) -> bool:
    return not re.search(r"[1-9]", shown)


def _moved(metric: str, change: float | None, better: str, clear: bool | None = True) -> str | None:
    """'better', 'worse' or None (no change to show, or none clear of noise: a snapshot taken
    before changes were judged has no judgement, and counts every change as before)."""
    if missing(change) or _zero(format_change(metric, change) or "0") or clear is False:
        return None
    return "better" if (change > 0) == (better == "higher") else "worse"


def headlines(frame: pl.DataFrame, year_ago: date) -> str:
    """Which way customers and productivity went against the same month a year before."""
    rows = {r["metric"]: r for r in frame.iter_rows(named=True)}
    moves: dict[str, list[tuple[str, str]]] = {"outcome": [], "productivity": []}
    for metric in (m for m in HEADLINES if m in rows and METRICS[m].family in moves):
        row = rows[metric]
        moved = _moved(
            metric, row["change_vs_year_ago"], row["better"], row.get("is_year_change_clear")
        )
        if moved:
            moves[METRICS[metric].family].append((metric, moved))
    outcomes, productivity = moves["outcome"], moves["productivity"]
    worse = [m for m, way in outcomes if way == "worse"]
    gained = [m for m, way in productivity if way == "better"]
    if not outcomes and not productivity:
        compared = any(not missing(r["change_vs_year_ago"]) for r in rows.values())
        if compared:
            return f"No headline figure moved clearly against {year_ago:%B %Y}."
        return f"Too little data to compare with {year_ago:%B %Y}."
    customers_worse = len(worse) * 2 > len(outcomes)
    lead = (
        "customers are worse off"
        if customers_worse
        else "customers are better off"
        if len(worse) * 2 < len(outcomes)
        else "customers are neither better nor worse off"
    )
    if customers_worse and len(gained) * 2 > len(productivity):
        lead += " while productivity improved"
    named = [f"{METRICS[m].label} {format_change(m, rows[m]['change_vs_year_ago'])}" for m in worse]
    detail = f" ({listed(named)})" if named else ""
    return (
        f"Against {year_ago:%B %Y}, {lead}: {number(len(worse))} of {number(len(outcomes))}"
        f" customer outcomes that moved clearly got worse{detail}, and {number(len(gained))} of"
        f" {number(len(productivity))} productivity KPIs that moved clearly got better."
    )


_KINDS = {
    "kpi_conflict": "faster or cheaper work costing customers in {place}",
    "watermelon": "a department meeting its own targets while failing its customers ({name})",
    "destroys_value": "{name} making its customers' cases end worse",
    "faded_initiative": "an initiative whose early gain faded",
    "empowerment_link": "employee empowerment moving the NPS in {name}",
}


def flags(frame: pl.DataFrame) -> str:
    """What the analyses flag, most urgent first, in one sentence."""
    if frame.is_empty():
        return "Nothing is flagged this month."
    items = []
    for row in frame.iter_rows(named=True):
        name = row["department_name"] or "the organisation"
        place = "the organisation" if row["department_id"] == "ALL" else name
        items.append(_KINDS[row["kind"]].format(name=name, place=place))
    things = "one thing needs" if len(items) == 1 else f"{number(len(items))} things need"
    return f"{capital(things)} the board's attention, most urgent first: {listed(items)}."


def trends(trend: pl.DataFrame, months: int) -> str:
    """Which way productivity and customer outcomes went over the charts' months."""

    def ways(metrics: tuple[str, ...]) -> list[tuple[str, str, float, float]]:
        found = []
        for metric in metrics:
            series = trend.filter((pl.col("metric") == metric) & pl.col("value").is_not_null())
            if series.height < 2:
                continue
            first, last = series["value"][0], series["value"][-1]
            moved = _moved(metric, last - first, METRICS[metric].better)
            if moved:
                found.append((metric, moved, first, last))
        return found

    productivity, outcomes = ways(TREND_PRODUCTIVITY), ways(TREND_OUTCOMES)
    if not productivity and not outcomes:
        return f"Too little data to tell a direction over the {months} months."

    def part(found, way: str, verb: str, kind: str, total: int) -> str:
        chosen = [f for f in found if f[1] == way]
        text = f"{number(len(chosen))} of {number(total)} {kind} {verb}"
        if chosen:
            metric, _, first, last = chosen[0]
            text += (
                f" ({METRICS[metric].label} from {format_value(metric, first)}"
                f" to {format_value(metric, last)})"
            )
        return text

    return capital(
        f"over the {months} months, "
        + part(productivity, "better", "improved", "productivity KPIs", len(TREND_PRODUCTIVITY))
        + " while "
        + part(outcomes, "worse", "worsened", "customer outcomes", len(TREND_OUTCOMES))
        + "."
    )


def conflicts(leads: pl.DataFrame) -> str:
    """Where productivity gains came at customers' cost."""
    if leads.is_empty():
        return "No productivity gain came at customers' cost: no pair of KPIs is flagged."
    departments = leads.filter(pl.col("department_id") != "ALL")
    organisation = leads.filter(pl.col("department_id") == "ALL")
    parts = []
    if departments.height:
        names = departments["department_name"].to_list()
        pairs = int(departments["pairs"].sum())
        verb = "is" if len(names) == 1 else "are"
        parts.append(
            f"{listed(names)} {verb} where productivity gains cost customers: {pairs:,} pair"
            f"{'s' if pairs != 1 else ''} of KPIs flagged"
        )
        if int(departments["through_totals"].sum()):
            parts[-1] += ", enough to show in the organisation's totals"
    if organisation.height:
        pairs = int(organisation["pairs"][0])
        parts.append(
            f"across the organisation {pairs:,} pair{'s' if pairs != 1 else ''} of KPIs moved apart"
        )
    return capital("; ".join(parts)) + "."


def value(frame: pl.DataFrame) -> str:
    """How many departments destroy customer value, and the worst of them."""
    bad = frame.filter(pl.col("verdict").is_in(["destroys_value", "watermelon"]))
    counts = dict(frame["verdict"].value_counts().iter_rows())
    if bad.is_empty():
        adds = counts.get("adds_value", 0)
        return (
            f"No department destroys customer value; {number(adds)} add value and"
            f" {number(counts.get('neutral', 0))} are neutral."
        )
    gapped = bad.filter(pl.col("nps_gap").is_not_null()).sort("nps_gap")
    worst = (gapped if gapped.height else bad).row(0, named=True)
    verb = "destroys" if bad.height == 1 else "destroy"
    text = f"{capital(number(bad.height))} department{'s' if bad.height > 1 else ''} {verb}"
    text += " customer value"
    if bad.height > 1:
        text += f"; {worst['department_name']} is the worst"
    else:
        text += f": {worst['department_name']}"
    unit = "front-line" if worst["department_function"] == "frontline" else "back-office"
    if not missing(worst["nps_gap"]):
        text += (
            f", {abs(worst['nps_gap']):.0f} NPS points below comparable cases of the other"
            f" {unit} units"
        )
    if worst["verdict"] == "watermelon":
        text += ", while meeting its own targets"
    return text + "."


def scorecard(card: pl.DataFrame, month: date) -> str:
    """The weakest front-line unit by NPS and the weakest back office by promises kept."""
    parts = []
    front = card.filter(
        (pl.col("department_function") == "frontline") & pl.col("nps").is_not_null()
    ).sort("nps")
    if front.height:
        row = front.row(0, named=True)
        parts.append(
            f"on the front line {row['department_name']} has the lowest NPS in {month:%B},"
            f" {format_value('nps', row['nps'])} ({row['nps_n']:,} answers)"
        )
    back = card.filter(
        (pl.col("department_function") == "back_office") & pl.col("promise_kept_held").is_not_null()
    ).sort("promise_kept_held")
    if back.height:
        row = back.row(0, named=True)
        sla = (
            f" met {format_value('task_sla_met_rate', row['task_sla_met_rate'])} of its task"
            f" SLAs in {month:%B} yet"
            if not missing(row["task_sla_met_rate"])
            else ""
        )
        parts.append(
            f"in the back office {row['department_name']}{sla} kept only"
            f" {row['promise_kept_held']:.0%} of the {row['promises_held']:,} customer promises"
            f" it held over {thresholds.VALUE_WINDOW_MONTHS} months"
        )
    if not parts:
        return "Too little data to single out a department."
    return capital("; ".join(parts)) + "."


def initiatives(frame: pl.DataFrame) -> str:
    """How the initiatives' gains held up."""
    if frame.is_empty():
        return "No initiative to judge."
    counts = dict(frame["verdict"].value_counts().iter_rows())
    held, faded = counts.get("durable", 0), counts.get("faded", 0)
    text = (
        f"Of {number(frame.height)} initiative{'s' if frame.height > 1 else ''},"
        f" {number(held)} held {'its' if held == 1 else 'their'} gain and {number(faded)} faded"
    )
    costly = frame.filter(pl.col("conflict_outcome").is_not_null())["initiative_name"].to_list()
    if costly:
        text += f"; customers paid for the gain of {listed(costly)}"
    return text + "."


def data_quality(freshness: pl.DataFrame, monthly: tuple[str, ...], loaded: int, set_aside: int):
    """Whether every monthly source is in, and how many rows were set aside."""
    rows = {r["source"]: r for r in freshness.iter_rows(named=True)}
    late = [s for s in monthly if rows.get(s, {}).get("status") != "up to date"]
    sources = (
        f"all {number(len(monthly))} monthly sources are up to date"
        if not late
        else f"{listed(late)} {'is' if len(late) == 1 else 'are'} not up to date"
    )
    return capital(
        f"{sources}; {set_aside:,} of {loaded:,} rows were set aside as faulty"
        f" ({set_aside / loaded:.1%})."
        if loaded
        else f"{sources}; no rows were loaded."
    )


def drivers(frame: pl.DataFrame) -> str:
    """What costs the organisation the most NPS among what happens on its cases, or why the
    pack cannot say. frame: the organisation's nps_drivers rows as frozen."""
    if frame.is_empty():
        return "This snapshot was taken before cxkpi weighed what moves customers' NPS."
    top = frame.filter(pl.col("costs_most"))
    n = int(frame["answers"].max() or 0)
    if top.height:
        row = top.row(0, named=True)
        low, high = sorted((-row["nps_gap_ci_low"], -row["nps_gap_ci_high"]))
        return (
            f"Across the organisation, {row['driver_label']} costs customers' NPS the most: it"
            f" happens on {row['prevalence']:.0%} of cases and goes with {-row['nps_gap']:.0f}"
            f" points lower NPS ({low:.0f} to {high:.0f}, 95% sure)."
        )
    if set(frame["verdict"]) == {"too few answers"}:
        return (
            f"Too few survey answers are linked to a case to say what moves NPS: {n:,}, at"
            " least 200 needed."
        )
    return (
        "Nothing that happens on the organisation's cases goes with a clearly lower NPS,"
        f" over {n:,} answers linked to a case."
    )
