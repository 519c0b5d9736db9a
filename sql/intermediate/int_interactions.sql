-- Contacts with their repeat, first-of-case and promise flags.
with interactions as (
    select * from stg_interactions
),

data_window as (
    select as_of from int_data_window
),

settings as (
    select to_days(repeat_window_days) as repeat_window from model_settings
),

sequenced as (
    select
        interactions.*,
        case when customer_id is not null then lead(started_at) over (
            partition by customer_id order by started_at, interaction_id
        ) end as next_customer_contact_at,
        lead(started_at) over (
            partition by case_id order by started_at, interaction_id
        ) as next_case_contact_at,
        row_number() over (
            partition by case_id order by started_at, interaction_id
        ) = 1 as is_first_of_case
    from interactions
),

final as (
    select
        sequenced.*,
        started_at <= data_window.as_of - settings.repeat_window as is_window_observed,
        case
            when customer_id is null then null
            else coalesce(next_customer_contact_at <= started_at + settings.repeat_window, false)
        end as is_followed_by_repeat,
        coalesce(
            least(next_case_contact_at, next_customer_contact_at)
            <= started_at + settings.repeat_window,
            false
        ) as has_contact_within_window,
        case
            when follow_up_due_at is null then null
            when follow_up_done_at <= follow_up_due_at then true
            when follow_up_due_at <= data_window.as_of then false
        end as is_promise_kept
    from sequenced, data_window, settings
)

select * from final
