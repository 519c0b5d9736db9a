"""The analyses' thresholds: what counts as material, clear, enough data or durable.

Kept apart from the statistics (the other modules of etl/analyses/, which need scipy) so the
dashboard can
say what a verdict means without importing them. Each is explained in docs/methodology.md.
"""

#: A conflict needs at least this many months where both metrics have a value, with every
#: calendar month seen at least twice: only then can a trend be told from the season.
MIN_PERIODS = 24
#: A series is seasonal when its calendar-month effects are jointly significant at this level
#: (F-test against a trend alone); the season is then taken out of both series of a pair.
SEASON_TEST = 0.05
#: A move of a pair holds within the channels when, at the window's own mix of channels, it is
#: still material and clear and keeps at least this share of itself: mostly not the mix.
MIX_KEPT_SHARE = 0.5
#: Months at each end of the window compared to judge whether a metric moved.
END_MONTHS = 6
#: False discovery rate over the pairs tested, those whose productivity improved and outcome
#: worsened. Pairs sharing a metric are dependent, so Benjamini-Yekutieli, which holds under
#: any dependence; benchmarks/kpi_conflicts.py measures the false flags against their target.
FDR = 0.05
#: Smallest change that counts as material, per unit (relative for productivity, absolute
#: for outcomes): a change must also be statistically clear (its 95% interval excludes zero).
MATERIAL_RELATIVE_CHANGE = 0.10
MATERIAL_OUTCOME_CHANGE = {"points": 5.0, "share": 0.03, "1-7": 0.2, "hours": None}
#: Outcome hours are material by MATERIAL_RELATIVE_CHANGE and never under this many: a case
#: resolved minutes later has not changed for its customer, however small its usual time.
MATERIAL_HOURS_FLOOR = 1.0
#: Months of recent data department_value judges a department on.
VALUE_WINDOW_MONTHS = 12
#: An NPS gap (points) between a department's cases and comparable cases that counts as
#: material: a verdict other than neutral needs its whole 95% interval beyond it, neutral needs
#: the whole interval inside it.
MATERIAL_NPS_GAP = 10.0
#: A unit that breaks more than this share of the call-backs promised while it held the case
#: fails the customer's promise whatever its peers do (the upper end of the 95% interval of the
#: share it kept lies below 1 minus it).
BROKEN_PROMISES_SHARE = 0.5
#: Times at most the reference is formed again from the latest gaps (it usually settles in 2).
REFERENCE_PASSES = 3
#: Share of a department's (month, target) pairs met for its own targets to count as met.
TARGETS_MET_SHARE = 0.8
#: Months after a survey wave whose outcomes are set against it.
LINKAGE_LAG_MONTHS = (1, 3)
#: Waves needed before an EX-CX association is reported as supported.
MIN_WAVES = 6
#: Empowerment must move at least this much (share favourable, mean of the first and last
#: LINKAGE_END_WAVES waves) before its association with NPS is called supported.
MATERIAL_EMPOWERMENT_CHANGE = 0.15
LINKAGE_END_WAVES = 3
#: Initiative windows, in months relative to the start month: the baseline is months
#: -BASELINE_MONTHS to -(BASELINE_SKIP + 1), at least MIN_BASELINE_MONTHS of them with a value.
MIN_BASELINE_MONTHS = 3
BASELINE_MONTHS = 6
BASELINE_SKIP = 0
EARLY_MONTH = 1
#: Departments without the initiative needed to set its lift against theirs.
MIN_COMPARISONS = 2
LATE_MONTHS = (3, 6)
#: A lift is durable when the late lift is clear and keeps at least this share of the early lift.
DURABLE_SHARE = 0.5
#: A theme whose F1 on the labelled comments is below this is marked unreliable.
MIN_F1 = 0.5
