"""What the dashboard and the board pack show, listed once: the KPIs of each tile row,
scorecard and trend chart (the pages themselves: etl/contract/pages.py). A page and the pack
that show the same thing read the
same list here, so they cannot disagree.
"""

from __future__ import annotations

#: The tiles of the overview and of a frozen month: customers, productivity, people.
TILES = ("nps", "fcr_rate", "promise_kept_rate", "aht_seconds", "occupancy", "empowerment_index")
#: The board pack's headline table, in reading order: customers first, then productivity,
#: people.
HEADLINES = (
    "nps",
    "fcr_rate",
    "repeat_contact_rate",
    "promise_kept_rate",
    "case_resolution_hours",
    "aht_seconds",
    "contacts_per_hour",
    "occupancy",
    "cost_per_contact",
    "task_sla_met_rate",
    "enps",
    "empowerment_index",
)
#: The department scorecard of a frozen month, on the Board snapshots page and in the pack
#: (etl/reporting/scorecard.py lays out both): one section per department function, each
#: judged by its own evidence. A back office answers no calls, so its customers' evidence is
#: the cases it held over the value window (department_value: promises kept, hours added to
#: resolve, NPS against the other back offices) beside its month's task SLA.
SCORECARD: dict[str, tuple[str, ...]] = {
    "frontline": ("nps", "fcr_rate", "promise_kept_rate", "aht_seconds", "occupancy"),
    "back_office": (
        "task_sla_met_rate",
        "occupancy",
        "promise_kept_held",
        "hours_added",
        "nps_gap",
    ),
    "support": ("adherence", "training_hours_per_fte"),
}
#: The pack's trend charts: productivity against customer outcomes, over TREND_MONTHS.
TREND_PRODUCTIVITY = ("aht_seconds", "contacts_per_hour", "occupancy", "cost_per_contact")
TREND_OUTCOMES = ("nps", "fcr_rate", "repeat_contact_rate", "promise_kept_rate")
TREND_MONTHS = 13
