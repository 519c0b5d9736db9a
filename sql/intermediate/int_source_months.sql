-- One row per monthly source and month: its rows against a typical month of that source, and
-- whether the month is complete for it. month_completeness turns this into the reporting
-- month; the rule is in docs/methodology.md ("The reporting month").
with settings as (
    select * from model_settings
),

-- Engagement surveys come in waves, not every month: they never hold a month back.
counted as (
    select
        'interactions' as source, 1 as source_order, 'contacts' as unit, month,
        count(*) as row_count, max(started_at)::date as last_on
    from stg_interactions
    group by month
    union all
    select 'case_tasks', 2, 'case tasks', month, count(*), max(opened_at)::date
    from stg_case_tasks
    group by month
    union all
    select 'workforce', 3, 'agent-days', month, count(*), max(work_date)
    from stg_workforce
    group by month
    union all
    select 'nps_responses', 4, 'survey answers', month, count(*), max(responded_at)::date
    from stg_nps_responses
    group by month
),

sources as (
    select
        source, source_order, unit, min(month) as first_month, max(month) as last_month
    from counted
    group by source, source_order, unit
),

-- Every month any monthly source holds, for every source from its own first month: a source
-- with nothing in a month the others have is short of that month.
spine as (
    select sources.*, months.month
    from sources
    inner join (select distinct month from counted) as months
        on months.month >= sources.first_month
),

observed as (
    select
        spine.source,
        spine.source_order,
        spine.unit,
        spine.month,
        spine.last_month as source_last_month,
        coalesce(counted.row_count, 0) as row_count,
        counted.last_on
    from spine
    left join counted using (source, month)
),

-- A typical month: the median of the source's months with rows among the latest before it.
typical as (
    select current_month.source, current_month.month, median(before.row_count) as typical_rows
    from observed as current_month
    cross join settings
    inner join observed as before
        on before.source = current_month.source
        and before.month < current_month.month
        and before.month >= current_month.month - to_months(settings.typical_months)
        and before.row_count > 0
    group by current_month.source, current_month.month
),

judged as (
    select
        observed.*,
        typical.typical_rows,
        observed.row_count > 0
        and (
            typical.typical_rows is null
            or typical.typical_rows < settings.min_judged_rows
            or observed.row_count >= settings.complete_share * typical.typical_rows
        ) as has_volume,
        observed.source <> 'interactions'
        or observed.last_on
        >= (last_day(observed.month) - to_days(settings.month_end_slack_days))::date
            as reaches_month_end
    from observed
    cross join settings
    left join typical using (source, month)
),

-- A month a later plausible month follows is settled: the next export has come in after it,
-- so a small month there (a holiday, a closure) is what happened, not data still to come.
settled as (
    select
        judged.*,
        coalesce(judged.has_volume and judged.reaches_month_end, false) as is_plausible,
        -- Two significant figures: "about 4,200", not a false precision.
        case
            when judged.typical_rows >= 10000 then round(judged.typical_rows / 1000) * 1000
            when judged.typical_rows >= 1000 then round(judged.typical_rows / 100) * 100
            when judged.typical_rows >= 100 then round(judged.typical_rows / 10) * 10
            else round(judged.typical_rows)
        end::bigint as typical_about,
        max(case when judged.has_volume and judged.reaches_month_end then judged.month end)
            over (partition by judged.source) as last_plausible_month
    from judged
),

final as (
    select
        source,
        source_order,
        unit,
        month,
        row_count,
        typical_about as typical_rows,
        last_on,
        is_plausible,
        coalesce(row_count > 0 and month <= last_plausible_month, false) as is_complete,
        case
            when row_count > 0 and month <= last_plausible_month then null
            when row_count = 0 and month > source_last_month
                then 'no ' || unit || ' yet, the data ends ' || strftime(source_last_month, '%B %Y')
            when row_count = 0 then 'no ' || unit || ' in the month'
            when not has_volume
                then printf('%,d', row_count) || ' ' || unit || ' so far against about '
                || printf('%,d', typical_about) || ' in a typical month'
                || if(reaches_month_end, '', ', the last on ' || strftime(last_on, '%d %b %Y'))
            when not reaches_month_end
                then unit || ' stop on ' || strftime(last_on, '%d %b %Y')
        end as shortfall
    from settled
)

select * from final
