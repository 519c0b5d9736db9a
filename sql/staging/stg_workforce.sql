-- Agent-days of logged-in, scheduled, handling, adherent and training time.
with source as (
    select * from raw_workforce
),

final as (
    select
        work_date,
        date_trunc('month', work_date)::date as month,
        agent_id,
        department_id,
        logged_in_minutes::double as logged_in_minutes,
        scheduled_minutes::double as scheduled_minutes,
        handling_minutes::double as handling_minutes,
        adherent_minutes::double as adherent_minutes,
        training_minutes::double as training_minutes,
        cost::double as cost
    from source
)

select * from final
