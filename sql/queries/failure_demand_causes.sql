-- The biggest causes of failure demand in a period: per causing department and reason, the
-- contacts and agent hours, how many another department had to take, and the three latest
-- cases an analyst can look up.
-- $start, $end: the period's first and last month; $department: a causing department, or
-- 'ALL' for every one.
with flows as (
    select *
    from failure_demand_flows
    where month between $start and $end
        and ($department = 'ALL' or cause_department_id = $department)
),

causes as (
    select
        cause_department_id,
        cause_department_name,
        reason,
        sum(contacts) as contacts,
        sum(hours) as hours,
        coalesce(sum(contacts) filter (where department_id <> cause_department_id), 0)
            as landed_elsewhere
    from flows
    group by cause_department_id, cause_department_name, reason
),

cases as (
    select cause_department_id, reason, case_id, max(month) as month
    from (
        select
            cause_department_id,
            reason,
            month,
            unnest([example_case_1, example_case_2, example_case_3]) as case_id
        from flows
    ) as listed
    where case_id is not null
    group by cause_department_id, reason, case_id
),

examples as (
    select cause_department_id, reason, list(case_id order by month desc, case_id desc) as cases
    from cases
    group by cause_department_id, reason
)

select
    causes.*,
    list_slice(coalesce(examples.cases, []), 1, 3) as example_cases
from causes
left join examples using (cause_department_id, reason)
order by causes.hours desc, causes.contacts desc, causes.cause_department_id, causes.reason
limit 10
