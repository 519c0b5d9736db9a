-- Every productivity x outcome pair of kpi_conflicts with the two metrics' labels, as the
-- KPI-conflicts page lists and charts them.
with pairs as (
    select * from kpi_conflicts
),

final as (
    select
        pairs.*,
        productivity.label as productivity_label,
        outcome.label as outcome_label
    from pairs
    inner join metric_definitions as productivity
        on productivity.metric = pairs.productivity_metric
    inner join metric_definitions as outcome
        on outcome.metric = pairs.outcome_metric
)

select * from final
