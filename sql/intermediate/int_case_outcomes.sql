-- One row per case: whether it was handed off and how it ended for the customer.
with cases as (
    select * from int_cases
),

responses as (
    select
        case_id,
        count(score) as answers,
        count(*) filter (where score >= 9) as promoters,
        count(*) filter (where score <= 6) as detractors
    from stg_nps_responses
    where case_id is not null
    group by case_id
),

promises as (
    select
        case_id,
        count(is_promise_kept) as promises,
        count(*) filter (where not is_promise_kept) as promises_broken
    from int_interactions
    group by case_id
),

final as (
    select
        cases.case_id,
        cases.month,
        cases.department_id as first_department_id,
        cases.channel,
        cases.tasks > 0 as is_handed_off,
        cases.resolution_hours,
        round(cases.resolution_hours * 3600)::bigint as resolution_seconds,
        coalesce(responses.answers, 0) as answers,
        coalesce(responses.promoters, 0) as promoters,
        coalesce(responses.detractors, 0) as detractors,
        coalesce(promises.promises, 0) as promises,
        coalesce(promises.promises_broken, 0) as promises_broken
    from cases
    left join responses using (case_id)
    left join promises using (case_id)
)

select * from final
