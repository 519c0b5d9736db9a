-- The organisation as a whole: one row per month with every metric over all departments.
with wide as (
    select * from int_month_wide where department_id = 'ALL'
),

final as (
    select wide.* exclude (department_id)
    from wide
)

select * from final
