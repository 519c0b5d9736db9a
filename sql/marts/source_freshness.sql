-- Per source: what is loaded now, when it was last loaded and how recent its data is.
with runs as (
    select * from load_runs where not is_superseded
),

loads as (
    select
        source,
        count(*) filter (where status <> 'interrupted') as files,
        count(*) filter (where status = 'refused') as files_refused,
        sum(rows_loaded) as rows_loaded,
        sum(rows_quarantined) as rows_quarantined,
        max(finished_at) as last_loaded_at
    from runs
    group by source
),

data_dates as (
    select 'interactions' as source, min(month) as first_month, max(month) as last_month
    from stg_interactions
    union all
    select 'case_tasks', min(month), max(month) from stg_case_tasks
    union all
    select 'workforce', min(month), max(month) from stg_workforce
    union all
    select 'nps_responses', min(month), max(month) from stg_nps_responses
    union all
    select 'engagement_responses', min(month), max(month) from stg_engagement_responses
),

sources as (
    select unnest([
        'departments', 'interactions', 'case_tasks', 'workforce', 'nps_responses',
        'engagement_responses', 'kpi_targets', 'initiatives'
    ]) as source
),

latest as (
    select max(last_month) as last_month from data_dates
),

final as (
    select
        sources.source,
        coalesce(loads.files, 0) as files,
        coalesce(loads.files_refused, 0) as files_refused,
        coalesce(loads.rows_loaded, 0) as rows_loaded,
        coalesce(loads.rows_quarantined, 0) as rows_quarantined,
        loads.last_loaded_at,
        data_dates.first_month,
        data_dates.last_month,
        case
            when coalesce(loads.rows_loaded, 0) = 0 then 'nothing loaded'
            when data_dates.source is null then 'reference data'
            when data_dates.last_month < latest.last_month
                then 'behind: data ends ' || strftime(data_dates.last_month, '%b %Y')
                || ', other sources reach ' || strftime(latest.last_month, '%b %Y')
            else 'up to date'
        end as status
    from sources
    cross join latest
    left join loads using (source)
    left join data_dates using (source)
)

select * from final
