-- Per department: how the cases it touched ended, over the last months of data. Like with
-- like: a front-line unit is judged on its cases that were not handed off (its own work), a
-- back office on handed-off cases (all it ever sees). department_value sets each department
-- against the median of its peers (same function), measured the same way.
with settings as (
    select value_window_months from model_settings
),

cases as (
    select int_case_outcomes.*
    from int_case_outcomes, settings
    where month > (select max(month) from int_case_outcomes)
        - to_months(settings.value_window_months)
),

departments as (
    select department_id, department_function from stg_departments
),

touched as (
    select
        departments.department_id,
        departments.department_function,
        touches.promises_broken_while_held,
        cases.*
    from departments
    inner join int_case_touches as touches on touches.department_id = departments.department_id
    inner join cases on cases.case_id = touches.case_id
    where (departments.department_function = 'frontline' and not cases.is_handed_off)
        or (departments.department_function = 'back_office' and cases.is_handed_off)
        or departments.department_function = 'support'
),

grouped as (
    select
        department_id,
        count(*) as cases,
        sum(answers)::bigint as answers,
        sum(promoters)::bigint as promoters,
        sum(detractors)::bigint as detractors,
        sum(promises)::bigint as promises,
        sum(promises_broken)::bigint as promises_broken,
        count(resolution_seconds) as resolved_cases,
        -- integer sums are exact, so a rebuild gives the same figures to the last bit
        sum(resolution_seconds)::hugeint as resolution_seconds_sum,
        sum(resolution_seconds::hugeint * resolution_seconds) as resolution_seconds_squares,
        sum(promises_broken_while_held)::bigint as promises_broken_while_held
    from touched
    group by department_id
),

touch_share as (
    select
        touches.department_id,
        count(distinct touches.case_id) / (select count(*) from cases) as customer_touch_share
    from int_case_touches as touches
    where touches.case_id in (select case_id from cases)
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
        coalesce(grouped.resolved_cases, 0) as resolved_cases,
        (grouped.resolution_seconds_sum / grouped.resolved_cases / 3600)::double
            as mean_resolution_hours,
        (sqrt(
            (grouped.resolution_seconds_squares
                - grouped.resolution_seconds_sum * grouped.resolution_seconds_sum
                / grouped.resolved_cases)
            / nullif(grouped.resolved_cases - 1, 0)
        ) / 3600)::double as sd_resolution_hours,
        coalesce(grouped.promises_broken_while_held, 0) as promises_broken_while_held
    from departments
    left join grouped using (department_id)
    left join touch_share using (department_id)
)

select * from final
