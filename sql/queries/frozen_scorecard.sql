-- Every department's figures of a month as a board snapshot froze them, with the verdict it
-- froze. $id: the snapshot; $month: the month.
select m.*, v.verdict
from snapshot_department_month as m
left join snapshot_department_value as v using (snapshot_id, department_id)
where m.snapshot_id = $id and m.month = $month
order by m.department_name
