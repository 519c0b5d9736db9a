-- What a department's detractors wrote, theme by theme, beside the organisation: the share of
-- its detractors' comments that took each theme against the share across the organisation,
-- over the months department_value judges on, with the three shortest clear comments.
-- A department's comments are those on the cases it worked on, or answered about it.
with window_months as (
    select first_month, last_month from int_value_window
),

detractors as (
    select distinct c.response_id, c.department_id, r.case_id
    from comment_themes as c
    inner join stg_nps_responses as r on r.response_id = c.response_id
    cross join window_months as w
    where c.nps_category = 'detractor' and c.month between w.first_month and w.last_month
),

owners as (
    select response_id, department_id from detractors
    union
    select d.response_id, t.department_id
    from detractors as d
    inner join int_case_touches as t on t.case_id = d.case_id
    union
    select response_id, 'ALL' as department_id from detractors
),

totals as (
    select department_id, count(*) as detractors_n from owners group by department_id
),

themed as (
    select
        o.department_id,
        c.response_id,
        c.theme_id,
        c.theme_label,
        c.reliable,
        c.score,
        c.score = max(c.score) over (partition by o.department_id, c.response_id) as is_strongest,
        c.redacted_comment,
        c.comment_length
    from owners as o
    inner join comment_themes as c on c.response_id = o.response_id
    where c.theme_id <> 'unmatched'
),

counts as (
    select
        department_id,
        theme_id,
        any_value(theme_label) as theme_label,
        count(*) as detractor_comments
    from themed
    group by department_id, theme_id
),

-- Clear: this theme is the comment's strongest, with a score in the top half of the
-- department's comments on the theme (and at least 0.5), and the comment has at least 15
-- characters.
ranked as (
    select
        *,
        percent_rank() over (partition by department_id, theme_id order by score) as score_rank
    from themed
),

-- The same words with two letters swapped (a typo) are one example: comments are grouped by
-- their letters, and the spelling most customers used stands for the group.
clear as (
    select
        department_id,
        theme_id,
        mode(redacted_comment order by redacted_comment) as redacted_comment,
        min(comment_length) as comment_length,
        max(score) as score
    from ranked
    where is_strongest and score >= 0.5 and score_rank >= 0.5 and comment_length >= 15
    group by
        department_id,
        theme_id,
        list_sort(string_split(lower(regexp_replace(redacted_comment, '[^A-Za-z]', '', 'g')), ''))
),

examples as (
    select
        department_id,
        theme_id,
        list(redacted_comment order by comment_length, score desc, redacted_comment)
            as examples
    from (
        select
            *,
            row_number() over (
                partition by department_id, theme_id
                order by comment_length, score desc, redacted_comment
            ) as example_rank
        from clear
    )
    where example_rank <= 3
    group by department_id, theme_id
),

final as (
    select
        c.department_id,
        coalesce(d.department_name, 'the organisation') as department_name,
        c.theme_id,
        c.theme_label,
        x.f1,
        x.reliable,
        row_number() over (
            partition by c.department_id order by c.detractor_comments desc, c.theme_id
        ) as theme_rank,
        c.detractor_comments,
        t.detractors_n,
        c.detractor_comments / t.detractors_n as share,
        coalesce(o.detractor_comments, 0) as organisation_comments,
        ot.detractors_n as organisation_n,
        coalesce(o.detractor_comments, 0) / ot.detractors_n as organisation_share,
        coalesce(e.examples, []::varchar[]) as examples,
        w.first_month,
        w.last_month
    from counts as c
    inner join totals as t on t.department_id = c.department_id
    cross join window_months as w
    cross join (select detractors_n from totals where department_id = 'ALL') as ot
    left join counts as o on o.department_id = 'ALL' and o.theme_id = c.theme_id
    left join departments as d on d.department_id = c.department_id
    left join theme_taxonomy as x on x.theme_id = c.theme_id
    left join examples as e on e.department_id = c.department_id and e.theme_id = c.theme_id
)

select * from final
