-- The choices the dashboard's filters offer: months with data, departments, channels.
with months as (
    select month, sum(n) as observations
    from metric_channel_month
    where department_id = 'ALL' and channel = 'all'
    group by month
),

departments as (
    select * from stg_departments
),

channels as (
    select channel, sum(n) as observations
    from metric_channel_month
    where department_id = 'ALL' and channel <> 'all' and metric = 'aht_seconds'
    group by channel
),

final as (
    select 'month' as filter, strftime(month, '%Y-%m') as value,
        strftime(month, '%b %Y') as label, null as detail,
        row_number() over (order by month) as sort_order
    from months
    where observations > 0
    union all
    select 'department', department_id,
        -- The URL carries labels, so two departments of one name are told apart by id.
        department_name || if(
            count(*) over (partition by department_name) > 1, ' (' || department_id || ')', ''
        ),
        department_function,
        row_number() over (order by department_name, department_id)
    from departments
    union all
    select 'channel', channel, channel, observations::varchar || ' contacts',
        row_number() over (order by observations desc, channel)
    from channels
    where observations > 0
)

select * from final
