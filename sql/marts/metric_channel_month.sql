-- One row per department (or 'ALL'), channel (or 'all'), month and metric: every
-- metric_definitions formula (docs/methodology.md#formulas), once. Metrics fed by workforce, tasks or the employee survey have no
-- channel and appear only under 'all'. Values below the metric's minimum sample are withheld
-- (NULL) and say why in `note`.
with settings as (
    select z_95 from model_settings
),

contacts as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        if(grouping(channel) = 1, 'all', coalesce(channel, 'unknown')) as channel,
        month,
        count(*) as contacts,
        avg(handle_seconds)::double as aht_seconds,
        stddev_samp(handle_seconds)::double as aht_sd
    from int_interactions
    group by grouping sets (
        (department_id, channel, month), (channel, month), (department_id, month), (month)
    )
),

workforce as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        'all' as channel,
        month,
        count(*) filter (where logged_in_minutes > 0) as logged_days,
        sum(logged_in_minutes) as logged_in_minutes,
        count(*) filter (where handling_minutes is not null and logged_in_minutes > 0)
            as handling_days,
        sum(handling_minutes) filter (where logged_in_minutes > 0) as handling_minutes,
        sum(logged_in_minutes) filter (where handling_minutes is not null) as handled_logged_minutes,
        count(*) filter (where scheduled_minutes > 0 and adherent_minutes is not null)
            as scheduled_days,
        sum(adherent_minutes) filter (where scheduled_minutes > 0) as adherent_minutes,
        sum(scheduled_minutes) filter (where adherent_minutes is not null) as scheduled_minutes,
        count(*) filter (where cost is not null) as cost_days,
        sum(cost) as cost,
        count(distinct agent_id) filter (where training_minutes is not null) as trained_agents,
        sum(training_minutes) as training_minutes
    from stg_workforce
    group by grouping sets ((department_id, month), (month))
),

tasks as (
    select
        if(grouping(tasks.department_id) = 1, 'ALL', tasks.department_id) as department_id,
        'all' as channel,
        tasks.month,
        count(*) filter (where closed_at <= sla_due_at) as met,
        -- An open task past its deadline has missed it; one closed with no close time is
        -- left out (whether it closed in time is not known).
        count(*) filter (
            where closed_at <= sla_due_at
            or coalesce(closed_at, if(is_closed, null, data_window.as_of)) > sla_due_at
        ) as due
    from stg_case_tasks as tasks, int_data_window as data_window
    where sla_hours is not null
    group by grouping sets ((tasks.department_id, tasks.month), (tasks.month))
),

-- Every task counts in the month it was opened, whatever its status and close time.
task_volumes as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        'all' as channel,
        month,
        count(*) as opened,
        count(*) filter (where not is_closed) as still_open
    from stg_case_tasks
    group by grouping sets ((department_id, month), (month))
),

survey as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        if(grouping(channel) = 1, 'all', coalesce(channel, 'unknown')) as channel,
        month,
        count(score) as scored,
        count(*) filter (where score >= 9) as promoters,
        count(*) filter (where score <= 6) as detractors,
        -- A yes/no "would recommend" is its own share, never an NPS.
        count(recommend) as recommend_answers,
        count(*) filter (where recommend) as recommenders,
        count(csat) as csat_answers,
        count(*) filter (where csat >= 4) as csat_favourable,
        count(effort) as effort_answers,
        avg(effort)::double as effort,
        stddev_samp(effort)::double as effort_sd
    from int_nps_responses
    group by grouping sets (
        (department_id, channel, month), (channel, month), (department_id, month), (month)
    )
),

cases as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        if(grouping(channel) = 1, 'all', coalesce(channel, 'unknown')) as channel,
        month,
        count(is_fcr) as fcr_cases,
        count(*) filter (where is_fcr) as fcr,
        -- Over cases the first contact did not close (another contact or a task followed):
        -- a median over every case is the length of one call wherever most close at once.
        count(resolution_hours) filter (where contacts > 1 or tasks > 0) as resolved_cases,
        median(resolution_hours) filter (where contacts > 1 or tasks > 0)::double
            as case_resolution_hours
    from int_cases
    group by grouping sets (
        (department_id, channel, month), (channel, month), (department_id, month), (month)
    )
),

contact_outcomes as (
    select
        if(grouping(department_id) = 1, 'ALL', department_id) as department_id,
        if(grouping(channel) = 1, 'all', coalesce(channel, 'unknown')) as channel,
        month,
        count(*) filter (where is_window_observed and is_followed_by_repeat is not null)
            as repeat_base,
        count(*) filter (where is_window_observed and is_followed_by_repeat) as repeats,
        count(is_promise_kept) as promises,
        count(*) filter (where is_promise_kept) as promises_kept
    from int_interactions
    group by grouping sets (
        (department_id, channel, month), (channel, month), (department_id, month), (month)
    )
),

engagement as (
    -- Counts of a wave already published are the published ones (int_engagement_counts).
    select
        department_id, 'all' as channel, month, enps_answers, enps_promoters, enps_detractors,
        engaged_answers, engaged_favourable, empowerment_responses, empowerment_answers,
        empowerment_favourable, teamwork_answers, teamwork_favourable
    from int_engagement_counts
),

measured as (
    select department_id, channel, month, 'aht_seconds' as metric, aht_seconds as value, contacts as n,
        null::double as ci_low, null::double as ci_high
    from contacts
    union all
    select workforce.department_id, workforce.channel, workforce.month, 'contacts_per_hour',
        contacts.contacts / (workforce.logged_in_minutes / 60.0),
        workforce.logged_days, null, null
    from workforce
    inner join contacts using (department_id, channel, month)
    where workforce.logged_in_minutes > 0
    union all
    select department_id, channel, month, 'occupancy', handling_minutes / handled_logged_minutes,
        handling_days, null, null
    from workforce where handled_logged_minutes > 0
    union all
    select department_id, channel, month, 'adherence', adherent_minutes / scheduled_minutes,
        scheduled_days, null, null
    from workforce where scheduled_minutes > 0
    union all
    select workforce.department_id, workforce.channel, workforce.month, 'cost_per_contact',
        workforce.cost / contacts.contacts, workforce.cost_days, null, null
    from workforce
    inner join contacts using (department_id, channel, month)
    where workforce.cost_days > 0
    union all
    select department_id, channel, month, 'training_hours_per_fte',
        training_minutes / 60.0 / trained_agents, trained_agents, null, null
    from workforce where trained_agents > 0
    union all
    select department_id, channel, month, 'task_sla_met_rate', met / due, due, null, null
    from tasks where due > 0
    union all
    select department_id, channel, month, 'tasks_opened', opened, opened, null, null
    from task_volumes
    union all
    select department_id, channel, month, 'open_tasks', still_open, opened, null, null
    from task_volumes
    union all
    select department_id, channel, month, 'nps', 100.0 * (promoters - detractors) / scored,
        scored, null, null
    from survey where scored > 0
    union all
    select department_id, channel, month, 'recommend_rate', recommenders / recommend_answers,
        recommend_answers, null, null
    from survey where recommend_answers > 0
    union all
    select department_id, channel, month, 'csat', csat_favourable / csat_answers, csat_answers,
        null, null
    from survey where csat_answers > 0
    union all
    select department_id, channel, month, 'effort', effort, effort_answers, null, null
    from survey where effort_answers > 0
    union all
    select department_id, channel, month, 'fcr_rate', fcr / fcr_cases, fcr_cases, null, null
    from cases where fcr_cases > 0
    union all
    select department_id, channel, month, 'case_resolution_hours', case_resolution_hours,
        resolved_cases, null, null
    from cases where resolved_cases > 0
    union all
    select department_id, channel, month, 'repeat_contact_rate', repeats / repeat_base,
        repeat_base, null, null
    from contact_outcomes where repeat_base > 0
    union all
    select department_id, channel, month, 'promise_kept_rate', promises_kept / promises, promises,
        null, null
    from contact_outcomes where promises > 0
    union all
    select department_id, channel, month, 'enps',
        100.0 * (enps_promoters - enps_detractors) / enps_answers, enps_answers, null, null
    from engagement where enps_answers > 0
    union all
    select department_id, channel, month, 'engagement_index', engaged_favourable / engaged_answers,
        engaged_answers, null, null
    from engagement where engaged_answers > 0
    union all
    select department_id, channel, month, 'empowerment_index',
        empowerment_favourable / empowerment_answers, empowerment_responses, null, null
    from engagement where empowerment_answers > 0
    union all
    select department_id, channel, month, 'teamwork_index', teamwork_favourable / teamwork_answers,
        teamwork_answers, null, null
    from engagement where teamwork_answers > 0
),

-- Adjusted-Wald interval for NPS-type scores (Rocks 2016): add 3/4 to promoters and to
-- detractors and 3 to n, then use the variance of a difference of two proportions.
net_scores as (
    select department_id, channel, month, 'nps' as metric, promoters, detractors, scored as n
    from survey where scored > 0
    union all
    select department_id, channel, month, 'enps', enps_promoters, enps_detractors, enps_answers
    from engagement where enps_answers > 0
),

intervals as (
    select
        department_id,
        channel,
        month,
        metric,
        (promoters + 0.75) / (n + 3) as p_promoter,
        (detractors + 0.75) / (n + 3) as p_detractor,
        n + 3 as adjusted_n
    from net_scores
),

interval_bounds as (
    select
        department_id,
        channel,
        month,
        metric,
        100 * (p_promoter - p_detractor) as centre,
        100 * settings.z_95 * sqrt(
            (p_promoter + p_detractor - (p_promoter - p_detractor) ^ 2) / adjusted_n
        ) as half_width
    from intervals, settings
),

-- The sampling error of a figure, where it is a sample (metric_definitions.sampling): a share
-- of counted units (binomial), promoters minus detractors, or a mean. Complete operational
-- records (time ratios, costs, a median) have none; their changes are judged by size.
sampling_errors as (
    select measured.department_id, measured.channel, measured.month, measured.metric,
        sqrt(measured.value * (1 - measured.value) / measured.n) as standard_error
    from measured
    inner join metric_definitions as definitions using (metric)
    where definitions.sampling = 'binomial'
    union all
    select department_id, channel, month, metric,
        100 * sqrt(
            (promoters + detractors) / n - ((promoters - detractors) / n) ^ 2
        ) / sqrt(n)
    from net_scores
    union all
    select department_id, channel, month, 'aht_seconds', aht_sd / sqrt(contacts)
    from contacts where contacts > 1
    union all
    select department_id, channel, month, 'effort', effort_sd / sqrt(effort_answers)
    from survey where effort_answers > 1
),

-- Every month from the first to the last any source holds: a month whose rows feed no
-- figure (tasks with neither a close time nor an SLA) still gets its rows, saying why.
data_months as (
    select month from measured
    union all
    select month from int_source_months where row_count > 0
),

spine_months as (
    select series.month::date as month
    from (
        select unnest(generate_series(
            (select min(month) from data_months), (select max(month) from data_months),
            interval 1 month
        )) as month
    ) as series
),

spine_metrics as (
    select metric, 'all' as channel from metric_definitions
    union all
    select metric_definitions.metric, channels.channel
    from metric_definitions,
        (select distinct channel from measured where channel <> 'all') as channels
    where metric_definitions.by_channel
),

spine as (
    select department_id, channel, month, metric
    from (select department_id from stg_departments union select 'ALL') as departments,
        spine_months,
        spine_metrics
),

cells as (
    select
        spine.department_id,
        spine.channel,
        spine.month,
        spine.metric,
        definitions.family,
        coalesce(measured.n, 0) as n,
        case when coalesce(measured.n, 0) >= definitions.min_n then measured.value::double end
            as value,
        case
            when coalesce(measured.n, 0) >= definitions.min_n and bounds.centre is not null
                then greatest(-100, bounds.centre - bounds.half_width)::double
        end as ci_low,
        case
            when coalesce(measured.n, 0) >= definitions.min_n and bounds.centre is not null
                then least(100, bounds.centre + bounds.half_width)::double
        end as ci_high,
        case
            when coalesce(measured.n, 0) >= definitions.min_n then errors.standard_error::double
        end as standard_error,
        case
            when sum(coalesce(measured.n, 0)) over (partition by spine.metric) = 0
                then 'not available: no data for this metric in the warehouse'
            when coalesce(measured.n, 0) = 0 then 'no data'
            when measured.n < definitions.min_n
                then 'too little data: n = ' || measured.n || ' < ' || definitions.min_n
        end as note,
        definitions.min_n
    from spine
    inner join metric_definitions as definitions
        on definitions.metric = spine.metric
    left join measured
        on measured.department_id = spine.department_id
        and measured.channel = spine.channel
        and measured.month = spine.month
        and measured.metric = spine.metric
    left join interval_bounds as bounds
        on bounds.department_id = spine.department_id
        and bounds.channel = spine.channel
        and bounds.month = spine.month
        and bounds.metric = spine.metric
    left join sampling_errors as errors
        on errors.department_id = spine.department_id
        and errors.channel = spine.channel
        and errors.month = spine.month
        and errors.metric = spine.metric
),

-- Anonymity by subtraction (docs/security.md): the organisation's total of an employee-survey
-- metric minus the departments shown would give a group under the minimum. Whenever a
-- department cell is withheld for its size, the next smallest departments are withheld too,
-- until at least two are hidden holding at least the minimum between them; if the
-- departments run out first, the organisation's total is withheld as well. Employee figures
-- have no channel, and no other level (team, function) is published, so this is the only
-- total they add up to.
survey_cells as (
    select
        cells.*,
        row_number() over smallest_first as hidden_rank,
        sum(n) over smallest_first as hidden_n,
        count(*) filter (where value is null) over (partition by month, metric) as too_small
    from cells
    where family = 'empowerment' and department_id <> 'ALL' and n > 0
    window smallest_first as (
        partition by month, metric
        order by value is null desc, n, department_id
        rows between unbounded preceding and current row
    )
),

enough_hidden as (
    select month, metric, min(hidden_rank) as last_hidden
    from survey_cells
    where too_small > 0 and hidden_rank >= 2 and hidden_n >= min_n
    group by month, metric
),

withheld as (
    select survey_cells.department_id, survey_cells.month, survey_cells.metric
    from survey_cells
    left join enough_hidden using (month, metric)
    where survey_cells.value is not null
        and survey_cells.too_small > 0
        and survey_cells.hidden_rank <= coalesce(enough_hidden.last_hidden, 1e9)
    union all
    select 'ALL', month, metric
    from survey_cells
    where too_small > 0
    group by month, metric
    having not exists (
        select 1 from enough_hidden
        where enough_hidden.month = survey_cells.month and enough_hidden.metric = survey_cells.metric
    )
),

final as (
    select
        cells.* exclude (min_n, value, ci_low, ci_high, standard_error, note),
        if(withheld.metric is null, cells.value, null) as value,
        if(withheld.metric is null, cells.ci_low, null) as ci_low,
        if(withheld.metric is null, cells.ci_high, null) as ci_high,
        if(withheld.metric is null, cells.standard_error, null) as standard_error,
        case
            when withheld.metric is not null and cells.value is not null
                then 'withheld: with the organisation''s total it would reveal a group under '
                    || cells.min_n
            else cells.note
        end as note
    from cells
    left join withheld
        on withheld.department_id = cells.department_id
        and withheld.month = cells.month
        and withheld.metric = cells.metric
        and cells.channel = 'all'
)

select * from final
