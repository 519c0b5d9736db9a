-- Input files added, replaced or no longer loaded since a board snapshot: the list its
-- fingerprint was taken over against the current loads.
-- $id: the snapshot.
with frozen as (
    select i.file, i.sha256
    from board_snapshots,
        unnest(from_json(inputs, '[{"file": "VARCHAR", "sha256": "VARCHAR"}]')) as t (i)
    where snapshot_id = $id
),

live as (
    select file_key as file, sha256 from load_runs where is_current
)

select
    file,
    case
        when f.sha256 is null then 'added'
        when l.sha256 is null then 'removed'
        else 'replaced'
    end as change
from frozen as f
full join live as l using (file)
where f.sha256 is distinct from l.sha256
order by change, file
