-- Themes on the rise: each theme's share of a department's comments (and the organisation's)
-- in the last 3 months with comments against the 3 months before, with the n of each.
with last_month as (
    select max(month) as last_month from theme_month
),

windows as (
    select
        (last_month - interval 2 month)::date as recent_from,
        last_month as recent_to,
        (last_month - interval 5 month)::date as before_from,
        (last_month - interval 3 month)::date as before_to
    from last_month
),

months as (
    select
        t.*,
        case when t.month >= w.recent_from then 'recent' else 'before' end as period
    from theme_month as t
    cross join windows as w
    where t.month between w.before_from and w.recent_to
),

-- Each department-month's comment total once, not once per theme.
department_totals as (
    select department_id, period, sum(comments_n)::bigint as comments_n
    from (select distinct department_id, month, period, comments_n from months)
    group by all
),

by_department as (
    select department_id, theme_id, period, sum(comments)::bigint as comments
    from months
    group by all
),

with_organisation as (
    select department_id, theme_id, period, comments from by_department
    union all
    select 'ALL' as department_id, theme_id, period, sum(comments)::bigint as comments
    from by_department
    group by all
),

totals as (
    select department_id, period, comments_n from department_totals
    union all
    select 'ALL' as department_id, period, sum(comments_n)::bigint as comments_n
    from department_totals
    group by all
),

themes as (
    select theme_id, theme_label, theme_order, reliable, f1 from theme_taxonomy
),

-- The margin, in standard errors, for a change to be clear of noise: two-sided 5% split over
-- the taxonomy's k themes (Bonferroni), so that in a quarter when no theme truly moves, any
-- theme of a department is called clear at most 5% of the time. z = Phi^-1(1 - 0.025 / k) by
-- Abramowitz and Stegun's rational approximation 26.2.23 (error under 0.00045; 1.96 at k = 1).
critical as (
    select t - (2.515517 + 0.802853 * t + 0.010328 * t * t)
        / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t) as critical
    from (select sqrt(-2 * ln(0.025 / count(*))) as t from themes)
),

grid as (
    select d.department_id, h.*
    from (select distinct department_id from totals) as d
    cross join themes as h
),

final as (
    select
        g.department_id,
        coalesce(dn.department_name, 'the organisation') as department_name,
        g.theme_id,
        g.theme_label,
        g.theme_order,
        g.f1,
        g.reliable,
        w.recent_from,
        w.recent_to,
        w.before_from,
        w.before_to,
        coalesce(r.comments, 0) as recent_comments,
        coalesce(rt.comments_n, 0) as recent_n,
        coalesce(b.comments, 0) as before_comments,
        coalesce(bt.comments_n, 0) as before_n,
        case when rt.comments_n > 0 then coalesce(r.comments, 0) / rt.comments_n end
            as recent_share,
        case when bt.comments_n > 0 then coalesce(b.comments, 0) / bt.comments_n end
            as before_share,
        coalesce(rt.comments_n, 0) >= 30 and coalesce(bt.comments_n, 0) >= 30 as is_enough,
        case when coalesce(rt.comments_n, 0) >= 30 and coalesce(bt.comments_n, 0) >= 30
            then coalesce(r.comments, 0) / rt.comments_n - coalesce(b.comments, 0) / bt.comments_n
        end as change,
        -- the change's standard error: the two windows' binomial errors combined
        case when coalesce(rt.comments_n, 0) >= 30 and coalesce(bt.comments_n, 0) >= 30
            then sqrt(
                recent_share * (1 - recent_share) / rt.comments_n
                + before_share * (1 - before_share) / bt.comments_n
            )
        end as change_se,
        c.critical
    from grid as g
    cross join windows as w
    cross join critical as c
    left join with_organisation as r
        on r.department_id = g.department_id and r.theme_id = g.theme_id and r.period = 'recent'
    left join with_organisation as b
        on b.department_id = g.department_id and b.theme_id = g.theme_id and b.period = 'before'
    left join totals as rt on rt.department_id = g.department_id and rt.period = 'recent'
    left join totals as bt on bt.department_id = g.department_id and bt.period = 'before'
    left join departments as dn on dn.department_id = g.department_id
)

select
    *,
    -- Clear of noise: beyond the margin that holds for all the taxonomy's themes at once
    -- (NULL when the windows are too small to compare).
    case when change is not null then change_se > 0 and abs(change) > critical * change_se end
        as is_change_clear
from final
