-- Rejected rows of the current loads grouped by file, column and rule, with what to fix.
with rejected as (
    select * from quarantine where not is_superseded
),

grouped as (
    select
        source,
        file,
        "column",
        rule,
        count(*) as rows_quarantined,
        min(row_number) as first_row_number,
        arg_min(message, row_number) as example_message
    from rejected
    group by source, file, "column", rule
),

final as (
    select
        grouped.*,
        case
            when rule like 'type:%'
                then 'Values are not ' || substr(rule, 6) || ': check the export''s format'
                || ' (ISO 8601 dates, plain numbers, true/false).'
            when rule = 'not_null' then 'A required value is empty: fill it in the export.'
            when rule = 'range' then 'Values outside the allowed range: check the scale.'
            when rule = 'allowed_values' then 'Codes outside the allowed list: map them to the contract''s values.'
            when rule = 'known_department'
                then 'Unknown department ids: add them to the departments file and load it first.'
            when rule = 'not_above'
                then 'A part exceeds its whole (e.g. handling above logged-in minutes).'
            when rule = 'empty_when'
                then 'A close time on a task whose status says open: fix the status or the close time.'
            when rule = 'unique' then 'The same id appears twice in the file: remove the duplicates.'
            when rule = 'unique_across_files'
                then 'Rows already loaded from another file: do not load overlapping exports.'
            when rule = 'at_least_one_of'
                then 'A survey row with no answer at all (no score, recommend, csat or effort).'
            else 'See the message.'
        end as fix
    from grouped
)

select * from final
