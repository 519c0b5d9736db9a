-- KPI-conflict flags and department verdicts that differ today from those a board snapshot
-- froze: one row per flag raised or withdrawn since, and per verdict changed.
-- $id: the snapshot. The dashboard shows it for a chosen snapshot (live = today's views);
-- `cxkpi snapshot` words it into the new version's changes against the one before (taken in
-- the same session, the live views hold what the new version froze).
with frozen as (
    select * from snapshot_kpi_conflicts where snapshot_id = $id and flagged
),

live as (
    select * from kpi_conflicts where flagged
),

flags as (
    select
        case when l.department_id is null then 'flag withdrawn' else 'new flag' end as change,
        coalesce(l.department_id, f.department_id) as department_id,
        coalesce(l.department_name, f.department_name) as department_name,
        coalesce(l.explanation, f.explanation) as explanation,
        null::varchar as verdict_then,
        null::varchar as verdict_now
    from frozen as f
    full join live as l using (department_id, productivity_metric, outcome_metric)
    where f.department_id is null or l.department_id is null
),

verdicts as (
    select
        'verdict changed' as change,
        department_id,
        l.department_name,
        null::varchar as explanation,
        f.verdict as verdict_then,
        l.verdict as verdict_now
    from snapshot_department_value as f
    inner join department_value as l using (department_id)
    where f.snapshot_id = $id and f.verdict <> l.verdict
),

final as (
    select
        *,
        coalesce(explanation, department_name || ': ' || verdict_then || ' then, '
            || verdict_now || ' now') as detail
    from (select * from flags union all select * from verdicts)
)

select * from final order by change, detail
