-- KPI targets; department_id '*' applies to every department.
with source as (
    select * from raw_kpi_targets
),

final as (
    select
        department_id,
        metric,
        target::double as target,
        valid_from
    from source
)

select * from final
