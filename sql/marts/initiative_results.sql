-- Each initiative's effect (initiative_effects) with the label, unit and better direction of
-- the metric it aims to move, as the initiatives page lists them.
with effects as (
    select * from initiative_effects
),

definitions as (
    select * from metric_definitions
),

final as (
    select
        effects.*,
        definitions.label as metric_label,
        definitions.unit,
        definitions.better
    from effects
    left join definitions on definitions.metric = effects.metric
)

select * from final
