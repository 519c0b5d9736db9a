-- Improvement initiatives and the metric each one aims to move.
with source as (
    select * from raw_initiatives
),

final as (
    select
        initiative_id,
        name as initiative_name,
        department_id,
        started_on,
        metric
    from source
)

select * from final
