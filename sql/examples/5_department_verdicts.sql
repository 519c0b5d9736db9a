-- Which departments add or destroy customer value
-- Each department's verdict with its own-target attainment and the NPS gap of the cases it
-- touched against comparable cases (with the 95% interval and the answers behind it).
select
    department_name,
    verdict,
    round(100 * own_target_attainment) as own_targets_met_pct,
    round(nps_gap, 1) as nps_gap,
    round(nps_gap_ci_low, 1) as nps_gap_ci_low,
    round(nps_gap_ci_high, 1) as nps_gap_ci_high,
    nps_touched_n as answers,
    explanation
from department_value
order by verdict, department_name
