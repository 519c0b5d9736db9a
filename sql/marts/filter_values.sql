-- The choices the dashboard's filters offer: months with data, departments, channels. The
-- period ends at the reporting month by default (month_completeness); a later month is
-- offered with why it is in progress.
with months as (
    select month, sum(n) as observations
    from metric_channel_month
    where department_id = 'ALL' and channel = 'all'
    group by month
),

completeness as (
    select * from month_completeness
),

departments as (
    select * from stg_departments
),

contact_channels as (
    select channel, sum(n) as contacts
    from metric_channel_month
    where department_id = 'ALL' and channel <> 'all' and metric = 'aht_seconds'
    group by channel
),

-- A channel only surveys come from (a web form with no contacts in the exports) is offered
-- too, after the channels with contacts.
answer_channels as (
    select coalesce(channel, 'unknown') as channel, count(*) as answers
    from int_nps_responses
    group by 1
),

channels as (
    select channel, coalesce(contacts, 0) as contacts, coalesce(answers, 0) as answers
    from contact_channels
    full join answer_channels using (channel)
),

final as (
    select 'month' as filter, strftime(months.month, '%Y-%m') as value,
        strftime(months.month, '%b %Y') as label, completeness.in_progress as detail,
        row_number() over (order by months.month) as sort_order,
        coalesce(completeness.is_reporting_month, false) as is_default
    from months
    left join completeness using (month)
    where months.observations > 0
    union all
    select 'department', department_id,
        -- The URL carries labels, so two departments of one name are told apart by id.
        department_name || if(
            count(*) over (partition by department_name) > 1, ' (' || department_id || ')', ''
        ),
        department_function,
        row_number() over (order by department_name, department_id),
        false
    from departments
    union all
    -- Channels read as names: phone -> Phone (the URL carries the label).
    select 'channel', channel, upper(left(channel, 1)) || substr(channel, 2),
        if(contacts > 0, contacts::varchar || ' contacts', answers::varchar || ' survey answers'),
        row_number() over (order by contacts desc, answers desc, channel),
        false
    from channels
    where contacts > 0 or answers > 0
)

select * from final
