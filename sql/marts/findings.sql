-- What an executive should look at first: flagged KPI conflicts (one row per department; an
-- organisation-wide flag that one department's flag explains is that department's, not a second),
-- watermelon and value-destroying departments, initiatives that faded, and supported links
-- between empowerment and NPS, each with its sentence and the page holding the evidence.
with conflicts as (
    select * from kpi_conflicts where flagged and shows_through is null
),

through_totals as (
    select distinct shows_through as department_id from kpi_conflicts where flagged
),

conflict_groups as (
    select
        department_id,
        any_value(department_name) as department_name,
        count(*) as pairs,
        arg_min(productivity_metric, association) as productivity_metric,
        arg_min(outcome_metric, association) as outcome_metric,
        arg_min(explanation, association) as explanation,
        arg_min(drivers, association) as drivers,
        min(association) as strength
    from conflicts
    group by department_id
),

verdicts as (
    select * from department_value where verdict in ('watermelon', 'destroys_value')
),

faded as (
    select * from initiative_effects where verdict = 'faded'
),

linked as (
    select
        department_id,
        any_value(department_name) as department_name,
        any_value(explanation) as explanation,
        any_value(association) as association
    from ex_cx_linkage
    where supported
    group by department_id
),

unioned as (
    select
        'kpi_conflict' as kind,
        if(department_id = 'ALL' or through_totals.department_id is not null, 1, 4) as priority,
        department_id,
        department_name,
        'Conflicting KPIs '
        || if(department_id = 'ALL', 'across the organisation', 'in ' || department_name)
        || ': ' || pairs || if(pairs = 1, ' pair', ' pairs')
        || ' where productivity improved while customers lost out'
        || if(
            through_totals.department_id is null, '',
            ', and it shows through the organisation''s totals'
        ) as headline,
        explanation,
        drivers,
        'conflicts' as evidence_page,
        productivity_metric,
        outcome_metric,
        null as initiative_id,
        strength
    from conflict_groups
    left join through_totals using (department_id)
    union all
    select
        verdict,
        if(verdict = 'watermelon', 2, 3),
        department_id,
        department_name,
        if(
            verdict = 'watermelon',
            'Watermelon: ' || department_name || ' is green on its own targets, red for customers',
            department_name || ' makes its customers'' cases end worse'
        ),
        explanation,
        null,
        'departments',
        null,
        null,
        null,
        nps_gap
    from verdicts
    union all
    select
        'faded_initiative',
        5,
        department_id,
        null,
        'Quick fix that faded: ' || initiative_name,
        explanation,
        null,
        'initiatives',
        null,
        metric,
        initiative_id,
        -abs(coalesce(lift_1_month, 0))
    from faded
    union all
    select
        'empowerment_link',
        6,
        department_id,
        department_name,
        'Employee empowerment and NPS move together in ' || department_name,
        explanation,
        null,
        'employee_voice',
        null,
        'nps',
        null,
        -association
    from linked
),

final as (
    select
        row_number() over (order by priority, strength, department_id, initiative_id) as rank,
        unioned.*
    from unioned
)

select * from final
