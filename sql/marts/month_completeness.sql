-- One row per month a monthly source holds: whether every monthly source covers it with a
-- plausible volume, and which month is the reporting month (docs/methodology.md). The
-- dashboard's default period ends at the reporting month; `cxkpi snapshot` refuses a month
-- that is not complete, in the words of incomplete_sources.
with source_months as (
    select * from int_source_months
),

months as (
    select
        month,
        bool_and(is_complete) as is_complete,
        array_to_string(
            list_sort(list(case when not is_complete then source || ' (' || shortfall || ')' end)),
            ', '
        ) as incomplete_sources,
        -- The first source short of the month leads: contacts before tasks, workforce, surveys.
        min_by(shortfall, case when not is_complete then source_order end) as leading_shortfall
    from source_months
    group by month
),

-- The last complete month; while no month is complete yet (a first, partial month), the last
-- month with data, shown as in progress rather than nothing at all.
reporting as (
    select coalesce(max(month) filter (where is_complete), max(month)) as reporting_month
    from months
),

final as (
    select
        months.month,
        months.is_complete,
        months.month = reporting.reporting_month as is_reporting_month,
        not months.is_complete and months.month >= reporting.reporting_month as is_in_progress,
        nullif(months.incomplete_sources, '') as incomplete_sources,
        case
            when not months.is_complete and months.month >= reporting.reporting_month
                then strftime(months.month, '%b %Y') || ' in progress: '
                || months.leading_shortfall
        end as in_progress
    from months
    cross join reporting
)

select * from final
