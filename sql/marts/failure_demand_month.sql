-- Per department (and 'ALL', the organisation) and month: the failure demand it received and
-- the failure demand it caused, by reason, as a share of all contacts, with the agent hours it
-- took and their cost where workforce cost per handled minute is loaded.
with demand as (
    select * from int_failure_demand
),

spine as (
    select distinct department_id, month from metric_month
),

-- Cost of a handled minute: workforce cost over handling minutes, on agent-days with both.
rates as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        month,
        sum(cost) / sum(handling_minutes) as cost_per_handled_minute
    from stg_workforce
    where cost is not null and handling_minutes > 0
    group by grouping sets ((department_id, month), (month))
),

-- Each contact's hours, and their cost at the rate of the department that handled it.
costed as (
    select
        demand.*,
        demand.handle_seconds / 3600.0 as hours,
        demand.handle_seconds / 60.0 * rates.cost_per_handled_minute as cost
    from demand
    left join rates
        on rates.department_id = demand.department_id and rates.month = demand.month
),

received as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        month,
        count(*) as contacts,
        count(*) filter (where is_failure_demand) as failure_contacts,
        count(*) filter (where reason = 'repeat') as received_repeat,
        count(*) filter (where reason = 'chase') as received_chase,
        count(*) filter (where reason = 'broken_promise') as received_broken_promise,
        count(*) filter (where reason = 'transfer_bounce') as received_transfer_bounce,
        coalesce(sum(hours) filter (where is_failure_demand), 0) as failure_hours,
        sum(cost) filter (where is_failure_demand) as failure_cost,
        count(*) filter (where is_failure_demand and cost is null) as failure_uncosted
    from costed
    group by grouping sets ((department_id, month), (month))
),

caused as (
    select
        if(grouping(cause_department_id) = 1, 'ALL', cause_department_id) as department_id,
        month,
        count(*) as caused_contacts,
        count(*) filter (where reason = 'repeat') as caused_repeat,
        count(*) filter (where reason = 'chase') as caused_chase,
        count(*) filter (where reason = 'broken_promise') as caused_broken_promise,
        count(*) filter (where reason = 'transfer_bounce') as caused_transfer_bounce,
        sum(hours) as caused_hours,
        sum(cost) as caused_cost,
        count(*) filter (where cost is null) as caused_uncosted
    from costed
    where is_failure_demand
    group by grouping sets ((cause_department_id, month), (month))
),

organisation as (
    select month, contacts as organisation_contacts from received where department_id = 'ALL'
),

task_rows as (
    select count(*) as tasks from stg_case_tasks
),

-- Reasons the data cannot show at all: no rule can find what no file records.
unseen as (
    select nullif(concat_ws(
        '; ',
        case when max(task_rows.tasks) = 0 then 'chase: no case tasks loaded' end,
        case when count(follow_up_due_at) = 0
            then 'broken_promise: no promised follow-ups recorded' end,
        case when count(transferred_to_department_id) = 0
            then 'transfer_bounce: no transfers recorded' end,
        case when count(customer_id) = 0 and count(*) filter (where case_id <> interaction_id) = 0
            then 'repeat: no customer or case ids recorded' end
    ), '') as not_classified
    from stg_interactions
    cross join task_rows
),

final as (
    select
        spine.department_id,
        spine.month,
        coalesce(received.contacts, 0) as contacts,
        coalesce(received.failure_contacts, 0) as failure_contacts,
        coalesce(received.received_repeat, 0) as received_repeat,
        coalesce(received.received_chase, 0) as received_chase,
        coalesce(received.received_broken_promise, 0) as received_broken_promise,
        coalesce(received.received_transfer_bounce, 0) as received_transfer_bounce,
        received.failure_contacts / received.contacts as failure_share,
        coalesce(received.contacts, 0) as failure_share_n,
        coalesce(caused.caused_contacts, 0) as caused_contacts,
        coalesce(caused.caused_repeat, 0) as caused_repeat,
        coalesce(caused.caused_chase, 0) as caused_chase,
        coalesce(caused.caused_broken_promise, 0) as caused_broken_promise,
        coalesce(caused.caused_transfer_bounce, 0) as caused_transfer_bounce,
        coalesce(caused.caused_contacts, 0) / organisation.organisation_contacts as caused_share,
        coalesce(organisation.organisation_contacts, 0) as caused_share_n,
        coalesce(received.failure_hours, 0) as failure_hours,
        coalesce(caused.caused_hours, 0) as caused_hours,
        rates.cost_per_handled_minute,
        case
            when coalesce(received.failure_contacts, 0) = 0 then 0
            when received.failure_uncosted = 0 then received.failure_cost
        end as failure_cost,
        case
            when coalesce(received.failure_contacts, 0) = 0 or received.failure_uncosted = 0
                then null
            when spine.department_id = 'ALL'
                then 'no workforce cost per handled minute for every department that month'
            else 'no workforce cost per handled minute loaded for the month'
        end as failure_cost_note,
        case
            when coalesce(caused.caused_contacts, 0) = 0 then 0
            when caused.caused_uncosted = 0 then caused.caused_cost
        end as caused_cost,
        case
            when coalesce(caused.caused_contacts, 0) = 0 or caused.caused_uncosted = 0 then null
            else 'no workforce cost per handled minute for every department that received them'
        end as caused_cost_note,
        case when coalesce(received.contacts, 0) = 0 then 'no contacts' end as failure_share_note,
        unseen.not_classified
    from spine
    left join received
        on received.department_id = spine.department_id and received.month = spine.month
    left join caused on caused.department_id = spine.department_id and caused.month = spine.month
    left join rates on rates.department_id = spine.department_id and rates.month = spine.month
    left join organisation on organisation.month = spine.month
    cross join unseen
)

select * from final
