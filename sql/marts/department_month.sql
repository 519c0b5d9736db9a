-- Contract view (docs/contract.md): one row per department and month with every metric, its
-- n and its note.
with wide as (
    select * from int_month_wide where department_id <> 'ALL'
),

departments as (
    select * from stg_departments
),

final as (
    select
        departments.department_name,
        departments.department_function,
        wide.*
    from wide
    inner join departments using (department_id)
)

select * from final
