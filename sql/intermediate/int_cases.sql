-- One row per customer case: its first contact, its tasks and when it was resolved.
with first_contacts as (
    select * from int_interactions where is_first_of_case
),

contacts as (
    select
        case_id,
        count(*) as contacts,
        max(ended_at) as last_contact_end_at
    from int_interactions
    group by case_id
),

tasks as (
    select
        case_id,
        count(*) as tasks,
        count(*) filter (where not is_closed) as open_tasks,
        count(*) filter (where is_closed and closed_at is null) as untimed_tasks,
        max(closed_at) as last_task_closed_at
    from stg_case_tasks
    group by case_id
),

joined as (
    select
        first_contacts.case_id,
        first_contacts.customer_id,
        first_contacts.department_id,
        first_contacts.channel,
        first_contacts.month,
        first_contacts.started_at as first_contact_at,
        first_contacts.is_resolved as is_first_contact_resolved,
        first_contacts.has_contact_within_window,
        first_contacts.is_window_observed,
        contacts.contacts,
        coalesce(tasks.tasks, 0) as tasks,
        coalesce(tasks.open_tasks, 0) as open_tasks,
        coalesce(tasks.untimed_tasks, 0) as untimed_tasks,
        greatest(contacts.last_contact_end_at, tasks.last_task_closed_at) as last_closed_at
    from first_contacts
    inner join contacts on contacts.case_id = first_contacts.case_id
    left join tasks on tasks.case_id = first_contacts.case_id
),

final as (
    select
        case_id,
        customer_id,
        department_id,
        channel,
        month,
        first_contact_at,
        contacts,
        tasks,
        open_tasks,
        untimed_tasks,
        case
            when not is_window_observed or is_first_contact_resolved is null then null
            else is_first_contact_resolved and not has_contact_within_window
        end as is_fcr,
        -- A task closed with no close time: the case is done, but when is not known.
        case when open_tasks = 0 and untimed_tasks = 0 then last_closed_at end as resolved_at,
        case
            when open_tasks = 0 and untimed_tasks = 0
                then date_diff('second', first_contact_at, last_closed_at) / 3600.0
        end as resolution_hours
    from joined
)

select * from final
