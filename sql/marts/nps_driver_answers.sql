-- One row per survey answer linked to a case: its score, NPS category and points, and what
-- happened on its case, as yes/no drivers (NULL where the data cannot tell). Repeats share
-- the failure-demand ledger's definition (int_failure_demand); "typical" wait and handle
-- times are the department's own over its first contacts.
with answers as (
    select * from int_nps_responses where score is not null and case_id is not null
),

cases as (
    select * from int_cases
),

outcomes as (
    select case_id, is_handed_off, promises, promises_broken from int_case_outcomes
),

first_contacts as (
    select case_id, department_id, wait_seconds, handle_seconds
    from int_interactions
    where is_first_of_case
),

typical as (
    select
        department_id,
        median(wait_seconds) as typical_wait_seconds,
        quantile_cont(handle_seconds, 0.25) as short_handle_seconds,
        quantile_cont(handle_seconds, 0.75) as long_handle_seconds
    from first_contacts
    group by department_id
),

contacts as (
    select
        interactions.case_id,
        count(*) filter (where interactions.transferred_to_department_id is not null)
            as transfers,
        count(*) filter (where demand.reason = 'repeat') as repeat_contacts
    from int_interactions as interactions
    left join int_failure_demand as demand
        on demand.interaction_id = interactions.interaction_id
    group by interactions.case_id
),

back_offices as (
    select case_id, min_by(department_id, opened_at) as back_office_id
    from stg_case_tasks
    group by case_id
),

final as (
    select
        answers.response_id,
        answers.case_id,
        answers.department_id,
        answers.channel,
        answers.month,
        answers.score,
        case
            when answers.score >= 9 then 'promoter'
            when answers.score >= 7 then 'passive'
            else 'detractor'
        end as category,
        case when answers.score >= 9 then 100 when answers.score >= 7 then 0 else -100 end
            as nps_points,
        not cases.is_fcr as unresolved_first_contact,
        contacts.transfers > 0 as transferred,
        first_contacts.wait_seconds > typical.typical_wait_seconds as long_wait,
        first_contacts.handle_seconds > typical.long_handle_seconds as long_handle,
        first_contacts.handle_seconds < typical.short_handle_seconds as short_handle,
        outcomes.promises_broken > 0 as promise_broken,
        outcomes.is_handed_off as handed_off,
        back_offices.back_office_id,
        cases.resolution_hours > 7 * 24 as resolved_after_a_week,
        round(cases.resolution_hours / 24, 1) as resolution_days,
        contacts.repeat_contacts > 0 as repeat_contact,
        contacts.transfers,
        contacts.repeat_contacts
    from answers
    inner join cases on cases.case_id = answers.case_id
    inner join outcomes on outcomes.case_id = answers.case_id
    inner join contacts on contacts.case_id = answers.case_id
    left join first_contacts on first_contacts.case_id = answers.case_id
    left join typical on typical.department_id = first_contacts.department_id
    left join back_offices on back_offices.case_id = answers.case_id
)

select * from final
