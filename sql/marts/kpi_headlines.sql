-- The figure a headline tile shows for every department (or 'ALL'), channel (or 'all'), month
-- and metric, with the figure before it and a year before it. Survey-wave metrics show the
-- latest wave up to the month; metrics with no channel show their all-channel figure. A month
-- after the reporting month is marked in progress (month_completeness).
with metrics as (
    select * from metric_channel_month
),

settings as (
    select z_95, material_relative_change from model_settings
),

completeness as (
    select month, is_in_progress from month_completeness
),

definitions as (
    select metric, family, better, unit, label, by_channel, sampling from metric_definitions
),

channels as (
    select distinct channel from metrics
),

-- Every channel a user can pick, with the all-channel figure where a metric has no channel.
by_channel as (
    select metrics.*, false as is_all_channels
    from metrics
    union all
    select metrics.* replace (channels.channel as channel), true
    from metrics
    inner join definitions using (metric)
    cross join channels
    where not definitions.by_channel and metrics.channel = 'all' and channels.channel <> 'all'
),

-- The periods a metric is observed in: every month, or only the months of a survey wave.
observations as (
    select
        by_channel.*,
        lag(by_channel.value) over periods as previous_value,
        lag(by_channel.n) over periods as previous_n,
        lag(by_channel.month) over periods as previous_period,
        lag(by_channel.standard_error) over periods as previous_standard_error
    from by_channel
    inner join definitions using (metric)
    where definitions.family <> 'empowerment' or by_channel.n > 0
    window periods as (
        partition by by_channel.department_id, by_channel.channel, by_channel.metric
        order by by_channel.month
    )
),

spine as (
    select distinct department_id, channel, month, metric from by_channel
),

-- Is a change clear of noise? A sample's change must exceed its 95% margin (the two sampling
-- errors combined); a complete record's change, which has no sampling error, must be material
-- (docs/methodology.md#clear-changes). NULL when either figure is missing.
changes as (
    select
        observations.*,
        year_ago.value as year_ago_value,
        year_ago.n as year_ago_n,
        year_ago.standard_error as year_ago_standard_error,
        definitions.sampling
    from observations
    inner join definitions using (metric)
    left join observations as year_ago
        on year_ago.department_id = observations.department_id
        and year_ago.channel = observations.channel
        and year_ago.metric = observations.metric
        and year_ago.month = observations.month - interval 12 month
),

judged as (
    select
        changes.*,
        case
            when value is null or previous_value is null then null
            when sampling <> ''
                then abs(value - previous_value)
                    > settings.z_95 * sqrt(standard_error ^ 2 + previous_standard_error ^ 2)
            else abs(value - previous_value)
                >= settings.material_relative_change * abs(previous_value)
        end as is_change_clear,
        case
            when value is null or year_ago_value is null then null
            when sampling <> ''
                then abs(value - year_ago_value)
                    > settings.z_95 * sqrt(standard_error ^ 2 + year_ago_standard_error ^ 2)
            else abs(value - year_ago_value)
                >= settings.material_relative_change * abs(year_ago_value)
        end as is_year_change_clear
    from changes, settings
),

final as (
    select
        spine.department_id,
        spine.channel,
        spine.month,
        spine.metric,
        definitions.family,
        definitions.label,
        definitions.better,
        definitions.unit,
        observations.month as period,
        observations.value,
        coalesce(observations.n, 0) as n,
        observations.ci_low,
        observations.ci_high,
        case when observations.value is null then coalesce(observations.note, 'no data') end
            as note,
        coalesce(observations.is_all_channels, not definitions.by_channel and spine.channel <> 'all')
            as is_all_channels,
        observations.previous_period,
        observations.previous_value,
        observations.previous_n,
        observations.value - observations.previous_value as change_vs_previous,
        observations.is_change_clear,
        observations.year_ago_value,
        observations.year_ago_n,
        observations.value - observations.year_ago_value as change_vs_year_ago,
        observations.is_year_change_clear,
        if(definitions.sampling <> '', 'sampling error', 'size') as change_judged_by,
        coalesce(completeness.is_in_progress, false) as is_in_progress
    from spine
    inner join definitions using (metric)
    left join completeness on completeness.month = spine.month
    asof left join judged as observations
        on observations.department_id = spine.department_id
        and observations.channel = spine.channel
        and observations.metric = spine.metric
        and observations.month <= spine.month
)

select * from final
