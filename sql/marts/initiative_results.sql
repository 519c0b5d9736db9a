-- Each initiative's effect (initiative_effects) with the label, unit and better direction of
-- the metric it aims to move, its department's name, what lies behind each figure (months
-- and the metric's own n in them) and the trend its metric was on before the start, as the
-- initiatives page lists them.
with effects as (
    select * from initiative_effects
),

definitions as (
    select * from metric_definitions
),

departments as (
    select department_id, department_name from stg_departments
),

settings as (
    select * from model_settings
),

-- Each month of the department's metric with its place relative to the initiative's start
-- and the window it falls in (the same windows as etl/analyses/initiatives.py).
months as (
    select
        effects.initiative_id,
        series.value,
        series.n,
        datediff('month', date_trunc('month', effects.started_on), series.month) as since,
        case
            when since between -settings.initiative_baseline_months
                and -(settings.initiative_baseline_skip + 1) then 'before'
            when since = settings.initiative_early_month then 'early'
            when since between settings.initiative_late_from and settings.initiative_late_to
                then 'late'
        end as stage
    from effects
    cross join settings
    inner join metric_series as series
        on series.department_id = effects.department_id and series.metric = effects.metric
    where series.value is not null
),

behind as (
    select
        initiative_id,
        count(*) filter (where stage = 'before') as baseline_months,
        sum(n) filter (where stage = 'before')::bigint as baseline_n,
        sum(n) filter (where stage = 'early')::bigint as level_1_month_n,
        count(*) filter (where stage = 'late') as level_3_6_months_months,
        sum(n) filter (where stage = 'late')::bigint as level_3_6_months_n,
        -- The metric's move per month over the baseline months, and how far that trend would
        -- carry it, continued, from the baseline's middle to the middle of months 3-6.
        regr_slope(value, since) filter (where stage = 'before') as trend_before,
        avg(since) filter (where stage = 'late') - avg(since) filter (where stage = 'before')
            as trend_span
    from months
    group by initiative_id
),

final as (
    select
        effects.*,
        definitions.label as metric_label,
        definitions.unit,
        definitions.better,
        departments.department_name,
        coalesce(behind.baseline_months, 0) as baseline_months,
        behind.baseline_n,
        behind.level_1_month_n,
        coalesce(behind.level_3_6_months_months, 0) as level_3_6_months_months,
        behind.level_3_6_months_n,
        behind.trend_before,
        -- The same move, in the direction the lift took, already under way before the start
        -- and, continued, worth at least half of the 3-6 month lift: the lift may be the trend.
        coalesce(
            effects.lift_3_6_months * behind.trend_before > 0
            and abs(behind.trend_before * behind.trend_span) >= 0.5 * abs(effects.lift_3_6_months),
            false
        ) as trend_explains,
        -- The sentence without the initiative's name and metric it starts with (the page
        -- names them beside it).
        coalesce(
            upper(
                left(
                    regexp_replace(
                        effects.explanation,
                        '^' || regexp_escape(effects.initiative_name) || ' \([^)]*\): ', ''
                    ),
                    1
                )
            )
            || substr(
                regexp_replace(
                    effects.explanation,
                    '^' || regexp_escape(effects.initiative_name) || ' \([^)]*\): ', ''
                ),
                2
            ),
            effects.explanation
        ) as reason
    from effects
    left join definitions on definitions.metric = effects.metric
    left join departments on departments.department_id = effects.department_id
    left join behind on behind.initiative_id = effects.initiative_id
)

select * from final
