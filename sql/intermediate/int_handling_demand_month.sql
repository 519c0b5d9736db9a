-- Per department (and 'ALL', the organisation) and month: the contacts it handled, their mean
-- handle time, and the failure demand it caused per contact handled, with the spread of both
-- across contacts. What the KPI-conflict analysis weighs a faster handling against
-- (docs/methodology.md#the-net-of-a-productivity-gain).
with demand as (
    select * from int_failure_demand
),

handled as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        month,
        count(*) as contacts,
        count(handle_seconds) as handled_contacts,
        avg(handle_seconds) as handle_seconds_mean
    from demand
    group by grouping sets ((department_id, month), (month))
),

caused as (
    select
        if(grouping(cause_department_id) = 1, 'ALL', cause_department_id) as department_id,
        month,
        count(*) as caused_contacts
    from demand
    where is_failure_demand
    group by grouping sets ((cause_department_id, month), (month))
),

final as (
    select
        handled.department_id,
        handled.month,
        handled.contacts,
        handled.handled_contacts,
        handled.handle_seconds_mean,
        coalesce(caused.caused_contacts, 0) as caused_contacts,
        coalesce(caused.caused_contacts, 0) / handled.contacts as caused_per_contact
    from handled
    left join caused
        on caused.department_id = handled.department_id and caused.month = handled.month
)

select * from final
