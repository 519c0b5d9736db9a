-- Every metric per department (or 'ALL') and month over all channels: the figures the
-- contract views and the analyses use.
with metrics as (
    select * from metric_channel_month where channel = 'all'
),

final as (
    select metrics.* exclude (channel)
    from metrics
)

select * from final
