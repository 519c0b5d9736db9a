-- Contract view (docs/contract.md): one row per file load attempt.
with runs as (
    select * from meta_load_runs
),

final as (
    select
        load_id,
        file,
        file_key,
        source,
        sha256,
        rows_read,
        rows_loaded,
        rows_quarantined,
        status,
        started_at,
        finished_at,
        message,
        superseded_by,
        superseded_by is not null as is_superseded,
        superseded_by is null and status in ('loaded', 'quarantined') as is_current,
        coalesce(rows_filtered, 0) as rows_filtered,
        filtered,
        profile
    from runs
)

select * from final
