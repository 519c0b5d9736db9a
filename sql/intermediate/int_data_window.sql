-- One row: the end of the observed data, used to censor windows that have not closed yet.
with interactions as (
    select max(started_at) as last_contact_at from stg_interactions
),

tasks as (
    select max(coalesce(closed_at, opened_at)) as last_task_at from stg_case_tasks
),

final as (
    select greatest(interactions.last_contact_at, tasks.last_task_at) as as_of
    from interactions, tasks
)

select * from final
