-- Each department's own targets against its monthly figures: met or not.
with figures as (
    select department_id, month, metric, value
    from metric_month
    where department_id <> 'ALL' and value is not null
),

targets as (
    select * from stg_kpi_targets
),

applicable as (
    select
        figures.*,
        targets.target,
        targets.department_id = figures.department_id as is_own_target,
        row_number() over (
            partition by figures.department_id, figures.month, figures.metric
            order by targets.department_id = figures.department_id desc, targets.valid_from desc
        ) as preference
    from figures
    inner join targets
        on targets.metric = figures.metric
        and targets.valid_from <= figures.month
        and targets.department_id in (figures.department_id, '*')
),

final as (
    select
        applicable.department_id,
        applicable.month,
        applicable.metric,
        applicable.value,
        applicable.target,
        applicable.is_own_target,
        case definitions.better
            when 'higher' then applicable.value >= applicable.target
            else applicable.value <= applicable.target
        end as is_met
    from applicable
    inner join metric_definitions as definitions using (metric)
    where applicable.preference = 1
)

select * from final
