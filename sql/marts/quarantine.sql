-- Contract view (docs/contract.md): one row per rejected row, with the rule it broke and what was sent.
with rejected as (
    select * from meta_quarantine
),

runs as (
    select load_id, superseded_by from meta_load_runs
),

final as (
    select
        rejected.source,
        rejected.file,
        rejected.row_number,
        rejected."column",
        rejected.rule,
        rejected.message,
        rejected.problems,
        rejected.raw_record,
        rejected.load_id,
        runs.superseded_by is not null as is_superseded
    from rejected
    inner join runs using (load_id)
)

select * from final
