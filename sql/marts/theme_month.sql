-- Themes of survey comments per department and month: how many comments took each theme,
-- their share of the month's comments, and the shares among detractors and promoters.
with comments as (
    select distinct response_id, department_id, month, nps_category
    from comment_themes
),

totals as (
    select
        department_id,
        month,
        count(*) as comments_n,
        count(case when nps_category = 'detractor' then 1 end) as detractors_n,
        count(case when nps_category = 'promoter' then 1 end) as promoters_n
    from comments
    group by department_id, month
),

themes as (
    select theme_id, theme_label, reliable, theme_order from theme_taxonomy
    union all
    select 'unmatched' as theme_id, 'No theme' as theme_label, null as reliable,
        1000000 as theme_order
),

counts as (
    select
        department_id,
        month,
        theme_id,
        count(*) as comments,
        count(case when nps_category = 'detractor' then 1 end) as detractor_comments,
        count(case when nps_category = 'promoter' then 1 end) as promoter_comments
    from comment_themes
    group by department_id, month, theme_id
),

final as (
    select
        t.department_id,
        t.month,
        h.theme_id,
        h.theme_label,
        h.theme_order,
        h.reliable,
        coalesce(c.comments, 0) as comments,
        t.comments_n,
        coalesce(c.comments, 0) / t.comments_n as share,
        coalesce(c.detractor_comments, 0) as detractor_comments,
        t.detractors_n,
        case when t.detractors_n > 0
            then coalesce(c.detractor_comments, 0) / t.detractors_n end as detractor_share,
        coalesce(c.promoter_comments, 0) as promoter_comments,
        t.promoters_n,
        case when t.promoters_n > 0
            then coalesce(c.promoter_comments, 0) / t.promoters_n end as promoter_share
    from totals as t
    cross join themes as h
    left join counts as c
        on c.department_id = t.department_id and c.month = t.month and c.theme_id = h.theme_id
)

select * from final
