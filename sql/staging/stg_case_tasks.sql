-- Back-office tasks on customer cases.
with source as (
    select * from raw_case_tasks
),

final as (
    select
        task_id,
        case_id,
        department_id,
        opened_at,
        closed_at,
        -- Closed by its status, or without one by its close time; a task closed with no
        -- close time counts in volumes and the backlog, never in a duration.
        coalesce(status = 'closed', closed_at is not null) as is_closed,
        date_trunc('month', opened_at)::date as month,
        sla_hours::double as sla_hours,
        opened_at + to_microseconds((sla_hours * 3600000000)::bigint) as sla_due_at,
        status
    from source
)

select * from final
