-- Every department's figures of a month as a board snapshot froze them, with the verdict and
-- the evidence of the value window it froze (what a back office's customers got from the
-- cases it held). $id: the snapshot; $month: the month.
select
    m.*,
    v.verdict,
    v.cases_held,
    v.promises_held,
    v.promise_kept_held,
    v.hours_added,
    v.nps_gap,
    v.nps_touched_n,
    v.reference_units
from snapshot_department_month as m
left join snapshot_department_value as v using (snapshot_id, department_id)
where m.snapshot_id = $id and m.month = $month
order by m.department_name
