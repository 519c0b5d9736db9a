-- One row per case and department that touched it (a contact or a task), with promises
-- that broke while that department held the case.
with contacts as (
    select distinct case_id, department_id from stg_interactions
),

tasks as (
    select
        case_id,
        department_id,
        min(opened_at) as first_opened_at,
        max(coalesce(closed_at, data_window.as_of)) as last_closed_at
    from stg_case_tasks, int_data_window as data_window
    group by case_id, department_id
),

broken_promises as (
    select case_id, follow_up_due_at
    from int_interactions
    where is_promise_kept = false
),

held as (
    select
        tasks.case_id,
        tasks.department_id,
        count(broken_promises.follow_up_due_at) as promises_broken_while_held
    from tasks
    left join broken_promises
        on broken_promises.case_id = tasks.case_id
        and broken_promises.follow_up_due_at between tasks.first_opened_at and tasks.last_closed_at
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
        coalesce(held.promises_broken_while_held, 0) as promises_broken_while_held
    from touches
    left join held using (case_id, department_id)
)

select * from final
