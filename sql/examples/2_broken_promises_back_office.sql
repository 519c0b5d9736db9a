-- Broken promises by back-office department
-- Call-backs promised to customers that were outstanding while each back-office department
-- held the case, how many it broke, how long customers waited past the promise, and how often
-- they chased.
select
    department_name,
    cases_held,
    promises_held,
    promises_broken_while_held,
    round(100 * promise_kept_held, 1) as promise_kept_pct,
    round(hours_beyond_promise / nullif(promises_broken_while_held, 0), 1)
        as hours_late_per_broken_promise,
    chasing_contacts,
    verdict
from department_value
where department_function = 'back_office'
order by promises_broken_while_held desc
