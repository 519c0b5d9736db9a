-- Each contact with the contact before it on the same case and by the same customer: what
-- failure demand looks back at (int_failure_demand).
with contacts as (
    select * from int_interactions
),

final as (
    select
        interaction_id,
        department_id,
        lag(interaction_id) over (
            partition by case_id order by started_at, interaction_id
        ) as case_prev_id,
        lag(started_at) over (
            partition by case_id order by started_at, interaction_id
        ) as case_prev_at,
        lag(department_id) over (
            partition by case_id order by started_at, interaction_id
        ) as case_prev_department_id,
        lag(transferred_to_department_id) over (
            partition by case_id order by started_at, interaction_id
        ) as case_prev_transferred_to,
        case when customer_id is not null then lag(interaction_id) over (
            partition by customer_id order by started_at, interaction_id
        ) end as customer_prev_id,
        case when customer_id is not null then lag(started_at) over (
            partition by customer_id order by started_at, interaction_id
        ) end as customer_prev_at,
        case when customer_id is not null then lag(department_id) over (
            partition by customer_id order by started_at, interaction_id
        ) end as customer_prev_department_id,
        case when customer_id is not null then lag(transferred_to_department_id) over (
            partition by customer_id order by started_at, interaction_id
        ) end as customer_prev_transferred_to,
        case when customer_id is not null then lag(case_id) over (
            partition by customer_id order by started_at, interaction_id
        ) end as customer_prev_case_id,
        case when customer_id is not null then lag(is_resolved) over (
            partition by customer_id order by started_at, interaction_id
        ) end as customer_prev_resolved
    from contacts
)

select * from final
