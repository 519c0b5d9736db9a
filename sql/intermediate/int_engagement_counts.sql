-- The employee survey's counts per department (or 'ALL') and wave month, as every employee
-- figure reads them. A wave a board snapshot has published keeps the counts it was published
-- with (meta_published_engagement, written by `cxkpi snapshot`): answers loaded or removed
-- afterwards change no figure, so a frozen figure set against a live one recovers nobody.
-- `responses_loaded` says what the warehouse holds now, so the difference can be reported.
with loaded as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        month,
        count(*) as responses,
        count(enps_score) as enps_answers,
        count(*) filter (where enps_score >= 9) as enps_promoters,
        count(*) filter (where enps_score <= 6) as enps_detractors,
        count(q_engaged) as engaged_answers,
        count(*) filter (where q_engaged >= 4) as engaged_favourable,
        count(*) filter (
            where q_empowered is not null or q_time is not null or q_tools is not null
        ) as empowerment_responses,
        count(q_empowered) + count(q_time) + count(q_tools) as empowerment_answers,
        count(*) filter (where q_empowered >= 4) + count(*) filter (where q_time >= 4)
        + count(*) filter (where q_tools >= 4) as empowerment_favourable,
        count(q_teamwork) as teamwork_answers,
        count(*) filter (where q_teamwork >= 4) as teamwork_favourable
    from stg_engagement_responses
    group by grouping sets ((department_id, month), (month))
),

published as (
    select * from meta_published_engagement
),

published_months as (
    select distinct month from published
),

final as (
    select
        loaded.department_id,
        loaded.month,
        loaded.responses,
        loaded.enps_answers,
        loaded.enps_promoters,
        loaded.enps_detractors,
        loaded.engaged_answers,
        loaded.engaged_favourable,
        loaded.empowerment_responses,
        loaded.empowerment_answers,
        loaded.empowerment_favourable,
        loaded.teamwork_answers,
        loaded.teamwork_favourable,
        loaded.responses as responses_loaded,
        false as is_published,
        cast(null as varchar) as snapshot_id
    from loaded
    left join published_months on published_months.month = loaded.month
    where published_months.month is null
    union all
    select
        published.department_id,
        published.month,
        published.responses,
        published.enps_answers,
        published.enps_promoters,
        published.enps_detractors,
        published.engaged_answers,
        published.engaged_favourable,
        published.empowerment_responses,
        published.empowerment_answers,
        published.empowerment_favourable,
        published.teamwork_answers,
        published.teamwork_favourable,
        coalesce(loaded.responses, 0) as responses_loaded,
        true as is_published,
        published.snapshot_id
    from published
    left join loaded
        on loaded.department_id = published.department_id
        and loaded.month = published.month
)

select * from final
