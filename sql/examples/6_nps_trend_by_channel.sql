-- Monthly NPS by channel
-- Organisation-wide NPS of each channel per month, with the answers behind each figure.
select
    month,
    channel,
    round(value, 1) as nps,
    n as answers
from metric_channel_month
where metric = 'nps' and department_id = 'ALL' and channel <> 'all'
order by month, channel
