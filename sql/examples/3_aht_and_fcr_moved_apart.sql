-- Months where handle time and first-contact resolution moved apart
-- Department-months where average handle time fell by 5 seconds or more (a productivity "win")
-- while first-contact resolution fell by 2 points or more against the month before.
with monthly as (
    select
        department_name,
        month,
        aht_seconds,
        aht_seconds_n,
        fcr_rate,
        fcr_rate_n,
        aht_seconds - lag(aht_seconds) over by_department as aht_change,
        fcr_rate - lag(fcr_rate) over by_department as fcr_change
    from department_month
    window by_department as (partition by department_id order by month)
)

select
    department_name,
    month,
    round(aht_change, 1) as aht_change_seconds,
    round(100 * fcr_change, 1) as fcr_change_points,
    aht_seconds_n as contacts,
    fcr_rate_n as fcr_contacts
from monthly
where aht_change <= -5 and fcr_change <= -0.02
order by department_name, month
