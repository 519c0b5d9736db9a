-- Anonymous employee survey answers (no person identifier exists in the raw layer).
with source as (
    select * from raw_engagement_responses
),

final as (
    select
        response_id,
        wave,
        date_trunc('month', wave)::date as month,
        department_id,
        team,
        enps_score,
        q_engaged,
        q_empowered,
        q_time,
        q_tools,
        q_teamwork
    from source
)

select * from final
