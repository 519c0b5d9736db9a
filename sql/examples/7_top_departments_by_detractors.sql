-- Top departments by detractors in the last complete quarter
-- Departments ranked by the customers who scored them 0-6 over the last quarter with every
-- month loaded, with the answers behind each count, the detractors' share of them and the
-- quarter's NPS (100 x (promoters - detractors) / answers; under 30 answers, too little data).
with quarter as (
    select date_trunc('quarter', max(month) + interval 1 month) - interval 3 month as first_month
    from department_nps_month
    where answers > 0
),

totals as (
    select
        department_name,
        quarter.first_month,
        sum(detractors) as detractors,
        sum(passives) as passives,
        sum(promoters) as promoters,
        sum(answers) as answers
    from department_nps_month, quarter
    where month >= quarter.first_month
        and month < quarter.first_month + interval 3 month
    group by department_name, quarter.first_month
    having sum(answers) > 0
)

select
    department_name,
    strftime(first_month, '%Y') || ' Q' || quarter(first_month) as quarter,
    detractors::integer as detractors,
    answers::integer as answers,
    round(100.0 * detractors / answers, 1) as detractor_pct,
    case when answers >= 30 then round(100.0 * (promoters - detractors) / answers, 1) end as nps,
    case when answers < 30 then 'too little data: n = ' || answers || ' < 30' end as nps_note
from totals
order by detractors desc
limit 10
