-- One row per department: its id, the name people know it by, its role in the customer
-- journey and its headcount, so a query over any view keyed by department_id can name it.
with departments as (
    select * from stg_departments
),

final as (
    select
        department_id,
        department_name,
        department_function,
        headcount
    from departments
)

select * from final
