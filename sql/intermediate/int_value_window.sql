-- One row: the months department_value judges departments on (the last value_window_months
-- months of cases).
with settings as (
    select value_window_months from model_settings
),

months as (
    select max(month) as last_month from int_case_outcomes
),

final as (
    select
        (months.last_month - to_months(settings.value_window_months - 1))::date as first_month,
        months.last_month
    from months, settings
)

select * from final
