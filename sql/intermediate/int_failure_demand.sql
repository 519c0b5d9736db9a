-- One row per customer contact: value demand, or failure demand with the one reason it is
-- (by precedence: transfer_bounce, chase, broken_promise, repeat) and the department whose
-- failure caused it (docs/methodology.md#failure-demand). Every rule looks back from the
-- contact at what the data records before it: earlier contacts, tasks and promises.
with contacts as (
    select * from int_interactions
),

tasks as (
    select * from stg_case_tasks
),

settings as (
    select to_days(repeat_window_days) as repeat_window from model_settings
),

-- Promised follow-ups, each on the contact that made it.
promises as (
    select
        interaction_id as promise_id,
        case_id,
        department_id,
        started_at as promised_at,
        follow_up_due_at as due_at,
        follow_up_done_at as done_at,
        is_promise_kept
    from contacts
    where follow_up_due_at is not null
),

-- The earlier contacts a repeat may follow: the case's previous contact (the case came back,
-- so by the first-contact resolution rule it did not resolve), and the customer's previous
-- contact on another case when it was not marked resolved. The leg a transfer led to follows
-- no failure.
linked as (
    select
        contacts.interaction_id,
        contacts.case_id,
        contacts.department_id,
        contacts.started_at,
        contacts.transferred_to_department_id,
        previous.case_prev_id,
        previous.case_prev_at,
        previous.case_prev_department_id,
        previous.case_prev_transferred_to,
        previous.case_prev_at is not null
        and contacts.started_at <= previous.case_prev_at + settings.repeat_window
        and coalesce(previous.case_prev_transferred_to <> contacts.department_id, true)
            as is_case_repeat,
        previous.customer_prev_id,
        previous.customer_prev_at,
        previous.customer_prev_department_id,
        previous.customer_prev_at is not null
        and contacts.started_at <= previous.customer_prev_at + settings.repeat_window
        and previous.customer_prev_case_id <> contacts.case_id
        and previous.customer_prev_resolved is distinct from true
        and coalesce(previous.customer_prev_transferred_to <> contacts.department_id, true)
            as is_customer_repeat
    from contacts
    inner join int_contact_links as previous on previous.interaction_id = contacts.interaction_id
    cross join settings
),

-- The case's next contact within the window after a transfer.
after_transfer as (
    select linked.*
    from linked, settings
    where linked.case_prev_transferred_to is not null
        and linked.started_at <= linked.case_prev_at + settings.repeat_window
),

-- The department the customer was sent to took the case up (opened a task on it) before
-- the customer's next contact: a hand-off, not a bounce.
taken_up as (
    select distinct after_transfer.interaction_id
    from after_transfer
    inner join tasks
        on tasks.case_id = after_transfer.case_id
        and tasks.department_id = after_transfer.case_prev_transferred_to
        and tasks.opened_at >= after_transfer.case_prev_at
        and tasks.opened_at <= after_transfer.started_at
),

-- A transfer that ends with a second transfer, or back where it started untaken.
bounces as (
    select
        after_transfer.interaction_id,
        after_transfer.case_prev_id as cause_interaction_id,
        after_transfer.case_prev_department_id as cause_department_id
    from after_transfer
    left join taken_up on taken_up.interaction_id = after_transfer.interaction_id
    where after_transfer.transferred_to_department_id is not null
        or (
            after_transfer.department_id = after_transfer.case_prev_department_id
            and taken_up.interaction_id is null
        )
),

-- Tasks on the case open at the contact and past their SLA, or past a promised call-back
-- that had not come by then.
overdue_tasks as (
    select contacts.interaction_id, tasks.task_id, tasks.department_id, tasks.opened_at
    from contacts
    inner join tasks
        on tasks.case_id = contacts.case_id
        and tasks.opened_at < contacts.started_at
        and (tasks.closed_at > contacts.started_at or (tasks.closed_at is null and not tasks.is_closed))
    where tasks.sla_due_at < contacts.started_at
    union all
    select contacts.interaction_id, tasks.task_id, tasks.department_id, tasks.opened_at
    from contacts
    inner join tasks
        on tasks.case_id = contacts.case_id
        and tasks.opened_at < contacts.started_at
        and (tasks.closed_at > contacts.started_at or (tasks.closed_at is null and not tasks.is_closed))
    inner join promises
        on promises.case_id = contacts.case_id
        and promises.due_at < contacts.started_at
        and (promises.done_at is null or promises.done_at > contacts.started_at)
),

-- The task that has been open longest answers for the chase.
chases as (
    select interaction_id, task_id as cause_task_id, department_id as cause_department_id
    from (
        select
            overdue_tasks.*,
            row_number() over (
                partition by interaction_id order by opened_at, task_id
            ) as task_rank
        from overdue_tasks
    ) as ranked
    where task_rank = 1
),

-- The department that held a promise: the last to open a task on the case between the
-- promise and its due time, else the department that made it.
promise_holders as (
    select promise_id, task_id, department_id
    from (
        select
            promises.promise_id,
            tasks.task_id,
            tasks.department_id,
            row_number() over (
                partition by promises.promise_id order by tasks.opened_at desc, tasks.task_id desc
            ) as holder_rank
        from promises
        inner join tasks
            on tasks.case_id = promises.case_id
            and tasks.opened_at >= promises.promised_at
            and tasks.opened_at <= promises.due_at
    ) as ranked
    where holder_rank = 1
),

-- Contacts on the case within the window after a promise fell due and broke; the promise
-- due last before the contact answers for it.
broken as (
    select
        ranked.interaction_id,
        ranked.promise_id as cause_interaction_id,
        promise_holders.task_id as cause_task_id,
        coalesce(promise_holders.department_id, ranked.promise_department_id)
            as cause_department_id
    from (
        select
            contacts.interaction_id,
            promises.promise_id,
            promises.department_id as promise_department_id,
            row_number() over (
                partition by contacts.interaction_id
                order by promises.due_at desc, promises.promise_id desc
            ) as promise_rank
        from contacts
        inner join promises
            on promises.case_id = contacts.case_id
            and promises.due_at < contacts.started_at
            and not promises.is_promise_kept
        cross join settings
        where contacts.started_at <= promises.due_at + settings.repeat_window
    ) as ranked
    left join promise_holders on promise_holders.promise_id = ranked.promise_id
    where ranked.promise_rank = 1
),

-- A repeat follows the later of its earlier contacts; its department held the contact that
-- did not resolve.
repeats as (
    select
        interaction_id,
        if(later_is_customer, customer_prev_id, case_prev_id) as cause_interaction_id,
        if(later_is_customer, customer_prev_department_id, case_prev_department_id)
            as cause_department_id
    from (
        select
            linked.*,
            is_customer_repeat
            and (
                not is_case_repeat
                or customer_prev_at > case_prev_at
                or (customer_prev_at = case_prev_at and customer_prev_id > case_prev_id)
            ) as later_is_customer
        from linked
        where is_case_repeat or is_customer_repeat
    ) as candidates
),

final as (
    select
        contacts.interaction_id,
        contacts.case_id,
        contacts.customer_id,
        contacts.department_id,
        contacts.channel,
        contacts.started_at,
        contacts.month,
        contacts.handle_seconds,
        coalesce(
            bounces.interaction_id, chases.interaction_id, broken.interaction_id,
            repeats.interaction_id
        ) is not null as is_failure_demand,
        case
            when bounces.interaction_id is not null then 'transfer_bounce'
            when chases.interaction_id is not null then 'chase'
            when broken.interaction_id is not null then 'broken_promise'
            when repeats.interaction_id is not null then 'repeat'
        end as reason,
        case
            when bounces.interaction_id is not null then bounces.cause_department_id
            when chases.interaction_id is not null then chases.cause_department_id
            when broken.interaction_id is not null then broken.cause_department_id
            when repeats.interaction_id is not null then repeats.cause_department_id
        end as cause_department_id,
        case
            when bounces.interaction_id is not null then bounces.cause_interaction_id
            when chases.interaction_id is not null then null
            when broken.interaction_id is not null then broken.cause_interaction_id
            when repeats.interaction_id is not null then repeats.cause_interaction_id
        end as cause_interaction_id,
        case
            when bounces.interaction_id is not null then null
            when chases.interaction_id is not null then chases.cause_task_id
            when broken.interaction_id is not null then broken.cause_task_id
        end as cause_task_id
    from contacts
    left join bounces on bounces.interaction_id = contacts.interaction_id
    left join chases on chases.interaction_id = contacts.interaction_id
    left join broken on broken.interaction_id = contacts.interaction_id
    left join repeats on repeats.interaction_id = contacts.interaction_id
)

select * from final
