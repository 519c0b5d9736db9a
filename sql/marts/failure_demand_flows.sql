-- Per month, department that caused failure demand, department that received it and reason:
-- the contacts, the agent hours, and the latest three cases. Who pays for whose failures,
-- month by month; the page's flow from causing to receiving department sums it over the
-- period, and its biggest causes show the cases an analyst can look up.
with demand as (
    select * from int_failure_demand where is_failure_demand
),

departments as (
    select department_id, department_name from stg_departments
),

ranked as (
    select
        demand.*,
        row_number() over (
            partition by month, cause_department_id, department_id, reason
            order by started_at desc, interaction_id desc
        ) as recency
    from demand
),

flows as (
    select
        month,
        cause_department_id,
        department_id,
        reason,
        count(*) as contacts,
        coalesce(sum(handle_seconds), 0) / 3600.0 as hours,
        max(case when recency = 1 then case_id end) as example_case_1,
        max(case when recency = 2 then case_id end) as example_case_2,
        max(case when recency = 3 then case_id end) as example_case_3
    from ranked
    group by month, cause_department_id, department_id, reason
),

final as (
    select
        flows.month,
        flows.cause_department_id,
        coalesce(causes.department_name, flows.cause_department_id) as cause_department_name,
        flows.department_id,
        coalesce(receivers.department_name, flows.department_id) as department_name,
        flows.reason,
        flows.contacts,
        flows.hours,
        flows.example_case_1,
        flows.example_case_2,
        flows.example_case_3
    from flows
    left join departments as causes on causes.department_id = flows.cause_department_id
    left join departments as receivers on receivers.department_id = flows.department_id
)

select * from final
