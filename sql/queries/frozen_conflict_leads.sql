-- The flagged KPI conflicts of a board snapshot, one row per department (or the organisation)
-- led by its strongest pair, with how many pairs it flags and how many department flags show
-- through the organisation's totals: the board pack's "What the analyses flag".
-- $id: the snapshot.
with flags as (
    select * from snapshot_kpi_conflicts where snapshot_id = $id and flagged
)

select
    department_id,
    department_name,
    explanation,
    count(*) over (partition by department_id) as pairs,
    (select count(*) from flags as t where t.shows_through = flags.department_id)
        as through_totals
from flags
where shows_through is null
qualify department_id = 'ALL'
    or row_number() over (partition by department_id order by association) = 1
order by department_id <> 'ALL', pairs desc, department_name
