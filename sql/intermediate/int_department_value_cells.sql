-- The case-level model's input, aggregated (department_value fits it): survey answers over
-- the value window, counted per cell of everything the model explains a case's outcome by:
-- the unit that opened it, its channel and month, and the units that worked on it after
-- (two at most are kept: the first and the last by department id; a case rarely has three).
with cases as (
    select
        int_case_outcomes.case_id,
        int_case_outcomes.first_department_id,
        int_case_outcomes.channel,
        int_case_outcomes.month,
        int_case_outcomes.answers,
        int_case_outcomes.promoters,
        int_case_outcomes.detractors
    from int_case_outcomes, int_value_window as value_window
    where int_case_outcomes.month >= value_window.first_month
        and int_case_outcomes.answers > 0
),

handlers as (
    select
        case_id,
        min(department_id) as first_handler_id,
        max(department_id) as last_handler_id
    from int_case_touches
    where not is_origin
    group by case_id
),

final as (
    select
        cases.first_department_id as origin_department_id,
        coalesce(cases.channel, 'unknown') as channel,
        cases.month,
        handlers.first_handler_id,
        case
            when handlers.last_handler_id <> handlers.first_handler_id
                then handlers.last_handler_id
        end as second_handler_id,
        count(*) as cases,
        sum(cases.answers)::bigint as answers,
        sum(cases.promoters)::bigint as promoters,
        sum(cases.detractors)::bigint as detractors
    from cases
    left join handlers on handlers.case_id = cases.case_id
    group by all
)

select * from final
