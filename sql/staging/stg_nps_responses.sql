-- Customer survey answers.
with source as (
    select * from raw_nps_responses
),

final as (
    select
        response_id,
        responded_at,
        date_trunc('month', responded_at)::date as month,
        customer_id,
        case_id,
        department_id,
        channel,
        score,
        csat,
        effort,
        recommend,
        comment
    from source
)

select * from final
