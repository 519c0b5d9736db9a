-- Each initiative's two lifts, 1 month and 3-6 months after its start, one row per lift with
-- its 95% interval: the long form the initiatives page charts, also in the unit a person reads
-- (a share's lift in percentage points).
with results as (
    select * from initiative_results
),

lifts as (
    select
        initiative_id,
        'after 1 month' as stage,
        lift_1_month as lift,
        lift_1_month_ci_low as low,
        lift_1_month_ci_high as high
    from results
    union all
    select
        initiative_id,
        'after 3-6 months' as stage,
        lift_3_6_months as lift,
        lift_3_6_months_ci_low as low,
        lift_3_6_months_ci_high as high
    from results
),

final as (
    select
        results.initiative_name || ' (' || results.metric_label || ')' as title,
        results.initiative_id,
        results.initiative_name,
        results.department_id,
        results.metric,
        results.started_on,
        results.comparison_ids,
        lifts.stage,
        lifts.lift,
        lifts.low,
        lifts.high,
        results.unit,
        results.better,
        -- What the chart draws: a share's lift in percentage points, others as measured.
        if(results.unit = 'share', 100, 1) as shown_factor,
        lifts.lift * shown_factor as shown_lift,
        lifts.low * shown_factor as shown_low,
        lifts.high * shown_factor as shown_high,
        case results.unit
            when 'share' then 'points'
            when 'points' then 'NPS points'
            when 'seconds' then 's'
            when 'hours' then 'h'
            else coalesce(results.unit, '')
        end as shown_unit,
        -- The chart panel's heading: what, in which unit, and which way is better.
        results.initiative_name || ': ' || coalesce(results.metric_label, results.metric)
        || ', ' || shown_unit || if(results.better = 'lower', ' (↓ better)', ' (↑ better)')
            as panel
    from results
    inner join lifts on lifts.initiative_id = results.initiative_id
)

select * from final
