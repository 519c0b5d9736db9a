"""The metric definitions: name, family, direction, unit and minimum sample.

The formulas in words are in docs/methodology.md#formulas; in SQL, in
sql/marts/metric_channel_month.sql.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass

#: Smallest number of survey answers for an NPS-like figure (docs/methodology.md#too-little-data).
MIN_N_SURVEY = 30
#: Smallest engagement group shown, for anonymity (docs/security.md#employee-anonymity).
MIN_N_ENGAGEMENT_GROUP = 5
#: Smallest number of observations for a share or mean of customer outcomes.
MIN_N_OUTCOME = 30
#: Smallest number of resolved cases for a median resolution time.
MIN_N_MEDIAN = 10
#: Productivity figures are complete operational records, not samples: one observation suffices.
MIN_N_CENSUS = 1
#: Days after a contact in which another contact counts as a repeat (fcr_rate, repeat_contact_rate).
REPEAT_WINDOW_DAYS = 7
#: z for the 95% intervals.
Z_95 = 1.959963984540054
#: A month is complete for a monthly source when it holds at least this share of the rows of a
#: typical month of that source (the reporting month, docs/methodology.md).
COMPLETE_SHARE = 0.5
#: A typical month: the median rows of the source's months before it, the latest this many.
TYPICAL_MONTHS = 12
#: A source whose typical month holds fewer rows is not judged by volume (chance moves it).
MIN_JUDGED_ROWS = 20
#: Contacts must reach this close to the month's last day (weekends and holidays allowed).
MONTH_END_SLACK_DAYS = 3


@dataclass(frozen=True)
class Metric:
    """One published metric."""

    name: str
    family: str
    better: str
    unit: str
    min_n: int
    definition: str
    n_counts: str
    label: str
    by_channel: bool = False
    #: Families: productivity, volume (counts of case tasks: demand and backlog, not an
    #: efficiency), outcome (the customer's), empowerment (the employee survey's).
    #: How the figure's sampling error is known, for telling a change from noise: "binomial"
    #: (a share of counted units), "net_score" (promoters minus detractors), "mean" (of
    #: observations); "" for a complete operational record (time ratios, costs, medians),
    #: whose changes are judged by size instead (docs/methodology.md#clear-changes).
    sampling: str = ""


_METRICS = (
    Metric(
        "aht_seconds",
        "productivity",
        "lower",
        "seconds",
        MIN_N_CENSUS,
        "Mean handle time of contacts.",
        "contacts",
        "handle time",
        by_channel=True,
        sampling="mean",
    ),
    Metric(
        "contacts_per_hour",
        "productivity",
        "higher",
        "contacts/hour",
        MIN_N_CENSUS,
        "Contacts handled per logged-in hour.",
        "agent-days with logged-in time",
        "contacts per hour",
    ),
    Metric(
        "occupancy",
        "productivity",
        "higher",
        "share",
        MIN_N_CENSUS,
        "Handling minutes / logged-in minutes.",
        "agent-days with handling time",
        "occupancy",
    ),
    Metric(
        "adherence",
        "productivity",
        "higher",
        "share",
        MIN_N_CENSUS,
        "Adherent minutes / scheduled minutes.",
        "agent-days with a schedule",
        "schedule adherence",
    ),
    Metric(
        "cost_per_contact",
        "productivity",
        "lower",
        "currency",
        MIN_N_CENSUS,
        "Workforce cost / contacts.",
        "agent-days with a cost",
        "cost per contact",
    ),
    Metric(
        "task_sla_met_rate",
        "productivity",
        "higher",
        "share",
        MIN_N_CENSUS,
        "Share of case tasks closed within their SLA hours.",
        "tasks with an SLA that are closed or overdue",
        "tasks within SLA",
        sampling="binomial",
    ),
    Metric(
        "training_hours_per_fte",
        "productivity",
        "higher",
        "hours",
        MIN_N_CENSUS,
        "Training minutes / 60 / distinct agents.",
        "distinct agents",
        "training hours per agent",
    ),
    Metric(
        "tasks_opened",
        "volume",
        "lower",
        "tasks",
        MIN_N_CENSUS,
        "Case tasks (tickets, complaints) opened in the month, whatever their status.",
        "tasks opened",
        "tasks opened",
    ),
    Metric(
        "open_tasks",
        "volume",
        "lower",
        "tasks",
        MIN_N_CENSUS,
        "Of the tasks opened in the month, those still open at the end of the data (status"
        " open, or no status and no close time): the backlog by the month it came in. A task"
        " closed with no close time is out of the backlog and out of every duration.",
        "tasks opened",
        "open tasks (backlog)",
    ),
    Metric(
        "nps",
        "outcome",
        "higher",
        "points",
        MIN_N_SURVEY,
        "% promoters (9-10) minus % detractors (0-6).",
        "survey answers with a score",
        "NPS",
        by_channel=True,
        sampling="net_score",
    ),
    Metric(
        "recommend_rate",
        "outcome",
        "higher",
        "share",
        MIN_N_OUTCOME,
        "Share of yes answers to a yes/no would-recommend question (a 0/1 answer). Never an"
        " NPS: a yes has no 0-10 score, so it is neither a promoter nor a detractor.",
        "survey answers with a yes/no recommend",
        "would recommend",
        by_channel=True,
        sampling="binomial",
    ),
    Metric(
        "csat",
        "outcome",
        "higher",
        "share",
        MIN_N_OUTCOME,
        "Share of satisfaction answers of 4 or 5.",
        "survey answers with csat",
        "satisfaction (CSAT)",
        by_channel=True,
        sampling="binomial",
    ),
    Metric(
        "effort",
        "outcome",
        "lower",
        "1-7",
        MIN_N_OUTCOME,
        "Mean customer effort (1 low - 7 high).",
        "survey answers with effort",
        "customer effort",
        by_channel=True,
        sampling="mean",
    ),
    Metric(
        "fcr_rate",
        "outcome",
        "higher",
        "share",
        MIN_N_OUTCOME,
        "Share of cases resolved by their first contact with no further contact within "
        f"{REPEAT_WINDOW_DAYS} days.",
        f"cases whose {REPEAT_WINDOW_DAYS}-day window is observed",
        "first-contact resolution",
        by_channel=True,
        sampling="binomial",
    ),
    Metric(
        "repeat_contact_rate",
        "outcome",
        "lower",
        "share",
        MIN_N_OUTCOME,
        f"Share of contacts followed by another from the same customer within "
        f"{REPEAT_WINDOW_DAYS} days.",
        f"contacts with a customer id whose {REPEAT_WINDOW_DAYS}-day window is observed",
        "repeat contacts",
        by_channel=True,
        sampling="binomial",
    ),
    Metric(
        "promise_kept_rate",
        "outcome",
        "higher",
        "share",
        MIN_N_OUTCOME,
        "Share of promised follow-ups done by their due time (not done = broken). A front-line"
        " unit's call-backs are kept or broken by the back office it handed the case to, so a"
        " low figure can be that office's (Departments: promises broken while it held the"
        " case).",
        "promises due by the end of the data",
        "promises kept",
        by_channel=True,
        sampling="binomial",
    ),
    Metric(
        "case_resolution_hours",
        "outcome",
        "lower",
        "hours",
        MIN_N_MEDIAN,
        "Median hours from a case's first contact to its last task or contact closing, over"
        " cases the first contact did not close (another contact or a task followed).",
        "cases beyond one contact with no open task",
        "time to resolve a case",
        by_channel=True,
    ),
    Metric(
        "enps",
        "empowerment",
        "higher",
        "points",
        MIN_N_ENGAGEMENT_GROUP,
        "% promoters minus % detractors of the employee eNPS question.",
        "employee answers with an eNPS score",
        "employee NPS",
        sampling="net_score",
    ),
    Metric(
        "engagement_index",
        "empowerment",
        "higher",
        "share",
        MIN_N_ENGAGEMENT_GROUP,
        "Share of favourable answers (4-5) to q_engaged.",
        "employee answers to q_engaged",
        "engagement",
        sampling="binomial",
    ),
    Metric(
        "empowerment_index",
        "empowerment",
        "higher",
        "share",
        MIN_N_ENGAGEMENT_GROUP,
        "Share of favourable answers (4-5) over q_empowered, q_time and q_tools.",
        "employee responses answering any of the three",
        "empowerment",
        sampling="binomial",
    ),
    Metric(
        "teamwork_index",
        "empowerment",
        "higher",
        "share",
        MIN_N_ENGAGEMENT_GROUP,
        "Share of favourable answers (4-5) to q_teamwork.",
        "employee answers to q_teamwork",
        "teamwork",
        sampling="binomial",
    ),
)

METRICS: dict[str, Metric] = {m.name: m for m in _METRICS}


def metric_rows() -> list[tuple]:
    """Rows of the metric_definitions seed table (the Metric fields, in order)."""
    return [astuple(m) for m in _METRICS]
