-- Survey comments by theme: one row per comment and theme it took, and one 'unmatched' row
-- for a comment no theme took. The text is redacted at build (etl/analyses/redaction.py).
with responses as (
    select
        response_id,
        department_id,
        month,
        channel,
        score as nps_score,
        case
            when score >= 9 then 'promoter'
            when score >= 7 then 'passive'
            when score is not null then 'detractor'
        end as nps_category
    from stg_nps_responses
),

themed as (
    select response_id, theme_id, score from comment_theme_scores
    union all
    select response_id, 'unmatched' as theme_id, null as score
    from comment_texts
    where themes = 0
),

final as (
    select
        t.response_id,
        r.department_id,
        r.month,
        r.channel,
        r.nps_score,
        r.nps_category,
        t.theme_id,
        coalesce(x.theme_label, 'No theme') as theme_label,
        t.score,
        x.reliable,
        c.themes as comment_themes,
        c.redacted_comment,
        length(c.redacted_comment) as comment_length,
        c.sentiment,
        c.sentiment_label
    from themed as t
    inner join comment_texts as c on c.response_id = t.response_id
    inner join responses as r on r.response_id = t.response_id
    left join theme_taxonomy as x on x.theme_id = t.theme_id
)

select * from final
