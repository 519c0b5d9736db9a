-- Per department, over the last 12 months: the failure demand it caused that other
-- departments handled, the failure demand it absorbed from others, and its own, in contacts,
-- agent hours and cost at the handling department's cost per handled minute.
with demand as (
    select * from int_failure_demand
),

window_months as (
    select first_month, last_month from int_value_window
),

rates as (
    select department_id, month, sum(cost) / sum(handling_minutes) as cost_per_handled_minute
    from stg_workforce
    where cost is not null and handling_minutes > 0
    group by department_id, month
),

failures as (
    select
        demand.department_id,
        demand.cause_department_id,
        demand.handle_seconds / 3600.0 as hours,
        demand.handle_seconds / 60.0 * rates.cost_per_handled_minute as cost
    from demand
    cross join window_months
    left join rates
        on rates.department_id = demand.department_id and rates.month = demand.month
    where demand.is_failure_demand
        and demand.month between window_months.first_month and window_months.last_month
),

contacts as (
    select demand.department_id, count(*) as contacts
    from demand
    cross join window_months
    where demand.month between window_months.first_month and window_months.last_month
    group by demand.department_id
),

caused_elsewhere as (
    select
        cause_department_id as department_id,
        count(*) as contacts,
        sum(hours) as hours,
        sum(cost) as cost,
        count(*) filter (where cost is null) as uncosted
    from failures
    where department_id <> cause_department_id
    group by cause_department_id
),

absorbed as (
    select
        department_id,
        count(*) as contacts,
        sum(hours) as hours,
        sum(cost) as cost,
        count(*) filter (where cost is null) as uncosted
    from failures
    where department_id <> cause_department_id
    group by department_id
),

own as (
    select
        department_id,
        count(*) as contacts,
        sum(hours) as hours,
        sum(cost) as cost,
        count(*) filter (where cost is null) as uncosted
    from failures
    where department_id = cause_department_id
    group by department_id
),

final as (
    select
        departments.department_id,
        departments.department_name,
        departments.department_function,
        window_months.first_month,
        window_months.last_month,
        coalesce(contacts.contacts, 0) as contacts,
        coalesce(caused_elsewhere.contacts, 0) as caused_elsewhere_contacts,
        coalesce(caused_elsewhere.hours, 0) as caused_elsewhere_hours,
        case
            when coalesce(caused_elsewhere.contacts, 0) = 0 then 0
            when caused_elsewhere.uncosted = 0 then caused_elsewhere.cost
        end as caused_elsewhere_cost,
        coalesce(absorbed.contacts, 0) as absorbed_contacts,
        coalesce(absorbed.hours, 0) as absorbed_hours,
        case
            when coalesce(absorbed.contacts, 0) = 0 then 0
            when absorbed.uncosted = 0 then absorbed.cost
        end as absorbed_cost,
        coalesce(own.contacts, 0) as own_contacts,
        coalesce(own.hours, 0) as own_hours,
        case
            when coalesce(own.contacts, 0) = 0 then 0
            when own.uncosted = 0 then own.cost
        end as own_cost,
        coalesce(caused_elsewhere.hours, 0) - coalesce(absorbed.hours, 0) as net_hours_caused,
        nullif(concat_ws(
            '; ',
            case when caused_elsewhere.uncosted > 0 then 'caused elsewhere' end,
            case when absorbed.uncosted > 0 then 'absorbed' end,
            case when own.uncosted > 0 then 'own' end
        ), '') as cost_missing_for
    from stg_departments as departments
    cross join window_months
    left join contacts on contacts.department_id = departments.department_id
    left join caused_elsewhere on caused_elsewhere.department_id = departments.department_id
    left join absorbed on absorbed.department_id = departments.department_id
    left join own on own.department_id = departments.department_id
)

select * from final
