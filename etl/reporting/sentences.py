"""Sentences that sum a page up for people, written from the figures and the findings.

Plain text: names in them come from the data, so a page escapes the sentence before showing it.
"""

from __future__ import annotations

from collections import Counter

#: Each kind of finding counted in words: (one, many).
FINDING_WORDS = {
    "kpi_conflict": ("unit with conflicting KPIs", "units with conflicting KPIs"),
    "watermelon": ("watermelon department", "watermelon departments"),
    "destroys_value": (
        "department making its customers' cases end worse",
        "departments making their customers' cases end worse",
    ),
    "faded_initiative": ("quick fix that faded", "quick fixes that faded"),
    "empowerment_link": ("link between empowerment and NPS", "links between empowerment and NPS"),
}
#: Kinds whose department is named in the sentence: they are about one department each.
NAMED = ("kpi_conflict", "watermelon", "destroys_value")


def listed(items: list[str]) -> str:
    """a, b and c."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _clearly(tiles: list[dict], worse: bool) -> list[str]:
    """The tiles whose year-on-year change is clear of noise, in the worse or better direction."""
    found = []
    for tile in tiles:
        change = tile.get("change_vs_year_ago")
        if not tile.get("is_year_change_clear") or not change:
            continue
        better = (change > 0) == (tile["better"] == "higher")
        if better != worse:
            found.append(tile["label"])
    return found


def figures_sentence(tiles: list[dict], year_ago: str) -> str:
    """How the headline figures compare with a year before (year_ago names it), only where the
    change is clear of noise."""
    worse, better = _clearly(tiles, worse=True), _clearly(tiles, worse=False)
    if not worse and not better:
        return f"No headline figure moved clearly against {year_ago}."
    parts = []
    if worse:
        parts.append(f"{listed(worse)} {'is' if len(worse) == 1 else 'are'} clearly worse")
    if better:
        verb = "" if worse else ("is " if len(better) == 1 else "are ")
        parts.append(f"{listed(better)} {verb}clearly better")
    return f"Against {year_ago}, " + "; ".join(parts) + "."


def findings_sentence(findings: list[dict]) -> str:
    """How many findings need attention, by kind, naming the departments flagged."""
    if not findings:
        return "Nothing is flagged: no KPI conflict, no department working against its customers."
    kinds = Counter(f["kind"] for f in findings)
    parts = []
    for kind, (one, many) in FINDING_WORDS.items():
        if not kinds[kind]:
            continue
        words = f"{kinds[kind]} {one if kinds[kind] == 1 else many}"
        if kind in NAMED:
            names = [
                "the organisation" if f["department_id"] == "ALL" else f["department_name"]
                for f in findings
                if f["kind"] == kind
            ]
            words += f" ({listed(names)})"
        parts.append(words)
    total = len(findings)
    return (
        f"{total} {'finding needs' if total == 1 else 'findings need'} attention: {listed(parts)}."
    )


def overview_headline(tiles: list[dict], findings: list[dict], year_ago: str) -> str:
    """The overview's opening: the figures against a year before, then what is flagged."""
    return f"{figures_sentence(tiles, year_ago)} {findings_sentence(findings)}"


def failure_demand_sentence(row: dict | None, month: str, year_ago: str) -> str:
    """The failure-demand share of a month and how it moved on a year before (month and
    year_ago name them): higher or lower only where the change is clear."""
    if not row or row.get("failure_share") is None:
        return f"No failure demand can be measured for {month}: no contacts."
    share = f"{row['failure_share']:.1%}"
    n = row["failure_share_n"]
    opening = f"Failure demand was {share} of contacts (all channels) in {month} (n = {n:,})"
    if row.get("year_ago_share") is None:
        return f"{opening}; there is no figure a year before to compare."
    before = f"{row['year_ago_share']:.1%} in {year_ago}"
    if not row.get("is_year_change_clear"):
        return f"{opening}: no clear change from {before}."
    way = "higher" if row["change_vs_year_ago"] > 0 else "lower"
    return f"{opening}: clearly {way} than {before}."


#: Below this F1 on the labelled comments a theme is marked unreliable wherever it is shown.
UNRELIABLE_NOTE = "unreliable theme: under 0.5 F1 on the labelled comments"


def theme_evidence_sentence(row: dict) -> str:
    """'Promised call-back not made: 73% of Claims Processing's detractors' comments (n = 948),
    13% across the organisation (n = 8,046)' from a theme_evidence row."""
    label = row["theme_label"]
    if row.get("reliable") is False:
        label += f" ({UNRELIABLE_NOTE})"
    return f"{label}: {theme_evidence_shares(row)}"


def theme_evidence_shares(row: dict) -> str:
    """The shares of a theme_evidence row, its label left out: '73% of Claims Processing's
    detractors' comments (n = 948), 13% across the organisation (n = 8,046)'."""
    whose = row["department_name"]
    mine = f"{row['share']:.0%} of {whose}'s detractors' comments (n = {row['detractors_n']:,})"
    if row["department_id"] == "ALL":
        return mine
    if row.get("organisation_share") is None:
        return f"{mine}; the organisation's share is withheld for your scope"
    across = f"{row['organisation_share']:.0%} across the organisation"
    return f"{mine}, {across} (n = {row['organisation_n']:,})"
