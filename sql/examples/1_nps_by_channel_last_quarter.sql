-- NPS by channel in the last complete quarter
-- Organisation-wide NPS of each channel over the last quarter with every month loaded, with the
-- number of survey answers behind it. Monthly NPS weighted by answers is the quarter's NPS.
with quarter as (
    select date_trunc('quarter', max(month) + interval 1 month) - interval 3 month as first_month
    from metric_channel_month
    where metric = 'nps' and n > 0
)

select
    channel,
    strftime(quarter.first_month, '%Y') || ' Q' || quarter(quarter.first_month) as quarter,
    round(sum(value * n) / sum(n), 1) as nps,
    sum(n) as answers
from metric_channel_month, quarter
where metric = 'nps'
    and department_id = 'ALL'
    and channel <> 'all'
    and month >= quarter.first_month
    and month < quarter.first_month + interval 3 month
    and value is not null
group by channel, quarter.first_month
order by nps desc
