-- Survey answers with their touchpoint department and channel: the ones given, else those of
-- the case's first contact.
with responses as (
    select * from stg_nps_responses
),

cases as (
    select case_id, department_id, channel from int_cases
),

final as (
    select
        responses.* exclude (department_id, channel),
        coalesce(responses.department_id, cases.department_id) as department_id,
        coalesce(responses.channel, cases.channel) as channel
    from responses
    left join cases on cases.case_id = responses.case_id
)

select * from final
