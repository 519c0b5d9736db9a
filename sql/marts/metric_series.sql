-- Every metric's monthly figures per department (or 'ALL'), over all channels, with the
-- metric's label, unit and better direction: the series the KPI-conflicts page draws.
with figures as (
    select * from metric_month
),

definitions as (
    select * from metric_definitions
),

final as (
    select
        figures.department_id,
        figures.month,
        figures.metric,
        definitions.label,
        definitions.unit,
        definitions.better,
        figures.value,
        figures.n,
        figures.ci_low,
        figures.ci_high,
        figures.note
    from figures
    inner join definitions on definitions.metric = figures.metric
)

select * from final
