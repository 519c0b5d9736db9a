-- The organisation's headline figures of a month whose value differs between two board
-- snapshots. $before, $now: the snapshots; $month: their month.
select n.label, b.value as value_then, n.value as value_now, n.metric
from snapshot_kpi_headlines as n
inner join snapshot_kpi_headlines as b
    on b.snapshot_id = $before
    and b.department_id = n.department_id
    and b.channel = n.channel
    and b.month = n.month
    and b.metric = n.metric
where n.snapshot_id = $now and n.department_id = 'ALL' and n.month = $month
    and b.value is distinct from n.value
order by n.family, n.metric
