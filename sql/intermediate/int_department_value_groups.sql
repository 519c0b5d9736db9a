-- Per department, over the value window: how the cases it worked on ended, measured in its
-- role. A front-line (or support) unit answers for the cases it opened and kept (no other
-- unit worked on them), a back office for the cases it worked on after another unit opened
-- them. Beside the survey answers, the
-- customer's promise: what was outstanding while it held a case, what broke, how long
-- customers waited past it, and how often they chased; exact sums of resolution time, which
-- department_value sets against the other units of its function (leave-one-out).
with cases as (
    select int_case_outcomes.*
    from int_case_outcomes, int_value_window as value_window
    where int_case_outcomes.month >= value_window.first_month
),

departments as (
    select department_id, department_function from stg_departments
),

handed as (
    select distinct case_id from int_case_touches where not is_origin
),

touched as (
    select
        departments.department_id,
        departments.department_function,
        touches.is_held,
        touches.promises_held,
        touches.promises_broken_while_held,
        touches.seconds_beyond_promise,
        touches.chasing_contacts,
        cases.answers,
        cases.promoters,
        cases.detractors,
        cases.promises,
        cases.promises_broken,
        cases.resolution_seconds
    from departments
    inner join int_case_touches as touches on touches.department_id = departments.department_id
    inner join cases on cases.case_id = touches.case_id
    left join handed on handed.case_id = touches.case_id
    where (departments.department_function = 'back_office' and not touches.is_origin)
        or (
            departments.department_function <> 'back_office'
            and touches.is_origin
            and handed.case_id is null
        )
),

grouped as (
    select
        department_id,
        department_function,
        count(*) as cases,
        sum(answers)::bigint as answers,
        sum(promoters)::bigint as promoters,
        sum(detractors)::bigint as detractors,
        sum(promises)::bigint as promises,
        sum(promises_broken)::bigint as promises_broken,
        count(*) filter (where is_held) as cases_held,
        sum(promises_held)::bigint as promises_held,
        sum(promises_broken_while_held)::bigint as promises_broken_while_held,
        (sum(seconds_beyond_promise)::hugeint / 3600.0)::double as hours_beyond_promise,
        (sum(chasing_contacts) filter (where is_held))::bigint as chasing_contacts,
        count(resolution_seconds) as resolved_cases,
        -- integer sums are exact, so a rebuild gives the same figures to the last bit
        sum(resolution_seconds)::hugeint as resolution_seconds_sum,
        sum(resolution_seconds::hugeint * resolution_seconds) as resolution_seconds_squares
    from touched
    group by department_id, department_function
),

touch_share as (
    select
        touches.department_id,
        count(distinct touches.case_id) / (select count(*) from cases) as customer_touch_share
    from int_case_touches as touches
    inner join cases on cases.case_id = touches.case_id
    group by touches.department_id
),

final as (
    select
        departments.department_id,
        departments.department_function,
        coalesce(touch_share.customer_touch_share, 0)::double as customer_touch_share,
        coalesce(grouped.cases, 0) as cases,
        coalesce(grouped.answers, 0) as answers,
        coalesce(grouped.promoters, 0) as promoters,
        coalesce(grouped.detractors, 0) as detractors,
        coalesce(grouped.promises, 0) as promises,
        coalesce(grouped.promises_broken, 0) as promises_broken,
        coalesce(grouped.cases_held, 0) as cases_held,
        coalesce(grouped.promises_held, 0) as promises_held,
        coalesce(grouped.promises_broken_while_held, 0) as promises_broken_while_held,
        coalesce(grouped.hours_beyond_promise, 0) as hours_beyond_promise,
        coalesce(grouped.chasing_contacts, 0) as chasing_contacts,
        coalesce(grouped.resolved_cases, 0) as resolved_cases,
        coalesce(grouped.resolution_seconds_sum, 0) as resolution_seconds_sum,
        coalesce(grouped.resolution_seconds_squares, 0) as resolution_seconds_squares
    from departments
    left join grouped using (department_id)
    left join touch_share using (department_id)
)

select * from final
