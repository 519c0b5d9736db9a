-- Customer contacts with the contract's default case id and their end time.
with source as (
    select * from raw_interactions
),

final as (
    select
        interaction_id,
        coalesce(case_id, interaction_id) as case_id,
        customer_id,
        department_id,
        channel,
        agent_id,
        started_at,
        started_at + to_seconds(handle_seconds) as ended_at,
        date_trunc('month', started_at)::date as month,
        handle_seconds,
        wait_seconds,
        resolved as is_resolved,
        transferred_to as transferred_to_department_id,
        follow_up_due_at,
        follow_up_done_at
    from source
)

select * from final
