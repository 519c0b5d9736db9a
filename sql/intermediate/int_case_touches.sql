-- One row per case and department that touched it (a contact or a task): whether it opened
-- the case, and what the customer lived through while the department held it (had a task
-- open on it): promises outstanding, promises that broke, time waited beyond the promise,
-- and the customer's own contacts in that time (chasing).
with contacts as (
    select distinct case_id, department_id from stg_interactions
),

origins as (
    select case_id, department_id from int_interactions where is_first_of_case
),

tasks as (
    select
        case_id,
        department_id,
        min(opened_at) as first_opened_at,
        -- A task closed with no close time ends the holding window at a time not known:
        -- nothing is counted as happening while the department held the case.
        if(
            bool_or(is_closed and closed_at is null), null,
            max(coalesce(closed_at, data_window.as_of))
        ) as last_closed_at
    from stg_case_tasks, int_data_window as data_window
    group by case_id, department_id
),

promises as (
    select
        case_id,
        follow_up_due_at as due_at,
        follow_up_done_at as done_at,
        is_promise_kept
    from int_interactions
    where is_promise_kept is not null
),

held_promises as (
    select
        tasks.case_id,
        tasks.department_id,
        count(promises.due_at) as promises_held,
        count(*) filter (
            where not promises.is_promise_kept
            and promises.due_at between tasks.first_opened_at and tasks.last_closed_at
        ) as promises_broken_while_held,
        coalesce(sum(
            date_diff(
                'second',
                promises.due_at,
                least(tasks.last_closed_at, coalesce(promises.done_at, tasks.last_closed_at))
            )
        ) filter (
            where not promises.is_promise_kept
            and promises.due_at between tasks.first_opened_at and tasks.last_closed_at
        ), 0)::bigint as seconds_beyond_promise
    from tasks
    left join promises
        on promises.case_id = tasks.case_id
        -- outstanding when the department took the case: not already kept or broken before
        and promises.due_at >= tasks.first_opened_at
        and coalesce(promises.done_at, promises.due_at) >= tasks.first_opened_at
    group by tasks.case_id, tasks.department_id
),

chasing as (
    select
        tasks.case_id,
        tasks.department_id,
        count(interactions.interaction_id) as chasing_contacts
    from tasks
    left join stg_interactions as interactions
        on interactions.case_id = tasks.case_id
        and interactions.started_at > tasks.first_opened_at
        and interactions.started_at < tasks.last_closed_at
    group by tasks.case_id, tasks.department_id
),

touches as (
    select case_id, department_id from contacts
    union
    select case_id, department_id from tasks
),

final as (
    select
        touches.case_id,
        touches.department_id,
        origins.department_id is not null as is_origin,
        tasks.case_id is not null as is_held,
        tasks.first_opened_at as held_from_at,
        coalesce(held_promises.promises_held, 0) as promises_held,
        coalesce(held_promises.promises_broken_while_held, 0) as promises_broken_while_held,
        coalesce(held_promises.seconds_beyond_promise, 0) as seconds_beyond_promise,
        coalesce(chasing.chasing_contacts, 0) as chasing_contacts
    from touches
    left join origins using (case_id, department_id)
    left join tasks using (case_id, department_id)
    left join held_promises using (case_id, department_id)
    left join chasing using (case_id, department_id)
)

select * from final
