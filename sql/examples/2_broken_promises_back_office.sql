-- Broken promises by back-office department
-- Promises to customers broken while each back-office department held the case, and how often
-- promises were kept on its cases against comparable handed-off cases it did not touch.
select
    department_name,
    cases_touched,
    promises_broken_while_held,
    round(100 * promise_kept_touched, 1) as promise_kept_pct,
    round(100 * promise_kept_peer, 1) as comparable_cases_kept_pct,
    verdict
from department_value
where department_function = 'back_office'
order by promises_broken_while_held desc
