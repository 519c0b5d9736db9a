-- The organisation's (and each department's) failure-demand share for a headline: per month,
-- the share of contacts received that were failure demand, its n, and the share the month
-- before and a year before, with whether each change is clear. Every contact is in the
-- record, so there is no sampling error: a change is clear when it is material
-- (docs/methodology.md#clear-changes), as for the other complete operational records.
with months as (
    select department_id, month, contacts, failure_contacts, failure_share
    from failure_demand_month
    where contacts > 0
),

settings as (
    select material_relative_change from model_settings
),

final as (
    select
        months.department_id,
        months.month,
        months.failure_share,
        months.contacts as failure_share_n,
        months.failure_contacts,
        previous.month as previous_month,
        previous.failure_share as previous_share,
        year_ago.failure_share as year_ago_share,
        year_ago.contacts as year_ago_n,
        months.failure_share - previous.failure_share as change_vs_previous,
        months.failure_share - year_ago.failure_share as change_vs_year_ago,
        case
            when previous.failure_share is null then null
            else abs(months.failure_share - previous.failure_share)
                >= settings.material_relative_change * previous.failure_share
        end as is_change_clear,
        case
            when year_ago.failure_share is null then null
            else abs(months.failure_share - year_ago.failure_share)
                >= settings.material_relative_change * year_ago.failure_share
        end as is_year_change_clear
    from months
    cross join settings
    left join months as previous
        on previous.department_id = months.department_id
        and previous.month = months.month - interval 1 month
    left join months as year_ago
        on year_ago.department_id = months.department_id
        and year_ago.month = months.month - interval 12 month
)

select * from final
