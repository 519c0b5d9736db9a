-- Departments, renamed for the marts.
with source as (
    select * from raw_departments
),

final as (
    select
        department_id,
        name as department_name,
        function as department_function,
        headcount
    from source
)

select * from final
