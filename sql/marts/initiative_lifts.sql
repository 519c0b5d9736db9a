-- Each initiative's two lifts, 1 month and 3-6 months after its start, one row per lift with
-- its 95% interval: the long form the initiatives page charts.
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
        lifts.high
    from results
    inner join lifts on lifts.initiative_id = results.initiative_id
)

select * from final
