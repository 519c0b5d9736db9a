-- Per source: what is loaded now, when it was last loaded, which months its data covers and
-- whether its latest month is complete (int_source_months: by volume, not by any row at all).
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

source_months as (
    select * from int_source_months
),

-- Waves a board snapshot published keep their published counts: what came or went since.
revised_waves as (
    select
        'engagement_responses' as source,
        count(*) as waves,
        sum(responses_loaded - responses) filter (where responses_loaded > responses) as added,
        sum(responses - responses_loaded) filter (where responses > responses_loaded) as removed,
        strftime(min(month), '%b %Y') as first_wave,
        strftime(max(month), '%b %Y') as last_wave
    from int_engagement_counts
    where department_id = 'ALL' and is_published and responses_loaded <> responses
    having count(*) > 0
),

completeness as (
    select
        source,
        max(case when is_complete then month end) as last_complete_month,
        -- The month after the last complete one, where the data has begun to come in.
        min(case when not is_complete and row_count > 0 then month end) as first_open_month
    from source_months
    group by source
),

open_months as (
    select source_months.source, source_months.month, source_months.shortfall
    from source_months
    inner join completeness
        on completeness.source = source_months.source
        and completeness.first_open_month = source_months.month
),

-- How far the complete data of the monthly sources reaches: a source short of it is behind.
reach as (
    select max(last_complete_month) as last_complete_month from completeness
),

sources as (
    select unnest([
        'departments', 'interactions', 'case_tasks', 'workforce', 'nps_responses',
        'engagement_responses', 'kpi_targets', 'initiatives'
    ]) as source
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
        completeness.last_complete_month,
        case
            when coalesce(loads.rows_loaded, 0) = 0 then 'nothing loaded'
            -- Loads on record whose rows are all gone (replaced by an empty file, or removed).
            when data_dates.source is not null and data_dates.first_month is null
                then 'nothing loaded'
            when data_dates.source is null then 'reference data'
            when completeness.source is null
                then 'survey waves, the latest in ' || strftime(data_dates.last_month, '%b %Y')
                || ' (not a monthly source: it never holds a month back)'
            when completeness.last_complete_month < reach.last_complete_month
                or (completeness.last_complete_month is null and reach.last_complete_month is not null)
                then 'behind: complete to '
                || coalesce(strftime(completeness.last_complete_month, '%b %Y'), 'no month yet')
                || ', other sources are complete to '
                || strftime(reach.last_complete_month, '%b %Y')
                || coalesce('; ' || strftime(open_months.month, '%b %Y') || ' holds '
                    || open_months.shortfall, '')
            when open_months.month is not null
                then 'up to date; ' || strftime(open_months.month, '%b %Y') || ' in progress: '
                || open_months.shortfall
            else 'up to date'
        end
        || coalesce(
            '; ' || if(
                revised_waves.waves = 1,
                'the wave of ' || revised_waves.first_wave
                || ', published in a board snapshot, keeps its published figures: ',
                revised_waves.waves || ' waves published in board snapshots ('
                || revised_waves.first_wave || ' to ' || revised_waves.last_wave
                || ') keep their published figures: '
            )
            || concat_ws(' and ',
                revised_waves.added || ' answers loaded since are not counted',
                revised_waves.removed || ' answers removed since are still counted'
            ),
            ''
        ) as status,
        revised_waves.waves as revised_waves
    from sources
    cross join reach
    left join loads using (source)
    left join data_dates using (source)
    left join completeness using (source)
    left join open_months using (source)
    left join revised_waves using (source)
)

select * from final
