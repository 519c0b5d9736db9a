-- The customer survey answers behind each department's monthly NPS: promoters (9-10),
-- passives (7-8) and detractors (0-6), beside the NPS they give, one row per row of
-- department_month (0 answers where customers rated nothing that month).
with months as (
    select
        department_id,
        department_name,
        department_function,
        month,
        nps,
        nps_n,
        nps_ci_low,
        nps_ci_high,
        nps_note
    from department_month
),

answers as (
    select
        department_id,
        month,
        count(score) as answers,
        count(*) filter (where score >= 9) as promoters,
        count(*) filter (where score between 7 and 8) as passives,
        count(*) filter (where score <= 6) as detractors
    from int_nps_responses
    where score is not null
    group by department_id, month
),

final as (
    select
        months.department_id,
        months.department_name,
        months.department_function,
        months.month,
        coalesce(answers.answers, 0) as answers,
        coalesce(answers.promoters, 0) as promoters,
        coalesce(answers.passives, 0) as passives,
        coalesce(answers.detractors, 0) as detractors,
        months.nps,
        months.nps_ci_low,
        months.nps_ci_high,
        months.nps_note
    from months
    left join answers
        on answers.department_id = months.department_id and answers.month = months.month
)

select * from final
