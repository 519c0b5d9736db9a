-- One row per department (or 'ALL') and month: the customer outcome ex_cx_linkage sets against
-- the department's empowerment waves. Customers rate the contacts of the front line, not the
-- back offices behind them, so a back-office unit's outcome is the NPS of the cases it held (had
-- a task open on, int_case_touches), counted in the month it took them; every other unit's is
-- the NPS and first-contact resolution of its own contacts (metric_month).
with settings as (
    select min_n from metric_definitions where metric = 'nps'
),

departments as (
    select department_id, department_function = 'back_office' as is_back_office
    from stg_departments
),

touchpoint as (
    select
        department_id,
        month,
        max(n) filter (where metric = 'nps') as nps_answers,
        max(value) filter (where metric = 'nps') as nps,
        max(n) filter (where metric = 'fcr_rate') as fcr_cases,
        max(value) filter (where metric = 'fcr_rate') as fcr_rate
    from metric_month
    where metric in ('nps', 'fcr_rate')
    group by department_id, month
),

held as (
    select
        touches.department_id,
        date_trunc('month', touches.held_from_at)::date as month,
        count(*) as cases_held,
        coalesce(sum(outcomes.answers), 0)::bigint as answers,
        coalesce(sum(outcomes.promoters), 0)::bigint as promoters,
        coalesce(sum(outcomes.detractors), 0)::bigint as detractors
    from int_case_touches as touches
    left join int_case_outcomes as outcomes on outcomes.case_id = touches.case_id
    where touches.is_held
    group by all
),

joined as (
    select
        touchpoint.*,
        coalesce(departments.is_back_office, false) as is_back_office,
        coalesce(held.cases_held, 0) as cases_held,
        coalesce(held.answers, 0) as held_answers,
        case
            when held.answers >= settings.min_n
                then 100.0 * (held.promoters - held.detractors) / held.answers
        end as held_nps
    from touchpoint
    cross join settings
    left join departments on departments.department_id = touchpoint.department_id
    left join held
        on held.department_id = touchpoint.department_id
        and held.month = touchpoint.month
),

final as (
    select
        department_id,
        month,
        if(is_back_office, 'held_cases', 'touchpoint') as outcome_basis,
        cases_held,
        if(is_back_office, held_answers, nps_answers) as nps_answers,
        if(is_back_office, held_nps, nps)::double as nps,
        if(is_back_office, 0, fcr_cases) as fcr_cases,
        if(is_back_office, null, fcr_rate)::double as fcr_rate
    from joined
)

select * from final
