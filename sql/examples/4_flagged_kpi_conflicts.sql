-- KPI conflicts the analysis flagged
-- Productivity metrics that improved while a customer outcome worsened, with statistical
-- support (q-value) and the number of months behind each, strongest first.
select
    department_name,
    productivity_metric,
    outcome_metric,
    n_periods as months,
    round(association, 2) as association,
    round(q_value, 4) as q_value,
    explanation
from kpi_conflicts
where flagged
order by q_value, department_name
