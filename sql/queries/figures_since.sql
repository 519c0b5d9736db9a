-- Headline figures of a month (organisation and departments, all channels) whose live value
-- or n differs today from those a board snapshot froze.
-- $id: the snapshot; $month: its month.
with frozen as (
    select * from snapshot_kpi_headlines where snapshot_id = $id and month = $month
),

live as (
    select * from kpi_headlines where channel = 'all' and month = $month
),

names as (
    select distinct department_id, department_name
    from snapshot_department_month where snapshot_id = $id
)

select
    coalesce(names.department_name, 'Organisation') as department,
    coalesce(f.metric, l.metric) as metric,
    coalesce(f.label, l.label) as label,
    f.value as frozen_value,
    f.n as frozen_n,
    l.value as live_value,
    l.n as live_n
from frozen as f
full join live as l using (department_id, metric)
left join names on names.department_id = coalesce(f.department_id, l.department_id)
where f.value is distinct from l.value or f.n is distinct from l.n
order by department <> 'Organisation', department, metric
