-- One row per ВПР participant with what the objectivity signs need. Pseudonymous and never published:
-- the signs aggregate it to school × year × work before anything leaves the working database.
with

vpr_results as (

    select * from {{ ref('stg_vpr_results') }}

),

vpr_works as (

    select * from {{ ref('vpr_works') }}

),

vpr_tasks as (

    select * from {{ ref('vpr_tasks') }}

),

results as (

    select
        vpr_results.year, vpr_results.login, {{ region_code_from_login('vpr_results.login') }} as region_code,
        vpr_results.work_code, vpr_results.subject_code, vpr_results.grade, vpr_results.participant_code,
        vpr_results.primary_score, vpr_results.mark, vpr_results.journal_mark, vpr_results.task_scores,
        vpr_results.task_max
    from vpr_results
    inner join vpr_works
        on vpr_results.work_code = vpr_works.work_code
        and vpr_results.year between vpr_works.year_from and vpr_works.year_to
    where not vpr_results.is_absent

),

-- The positions of the work's easy (базовый) and hard (повышенный, высокий) tasks in the year's task list.
task_positions as (

    select
        work_years.year, work_years.work_code,
        array_agg(vpr_tasks.task_order order by vpr_tasks.task_order)
            filter (where vpr_tasks.difficulty = 'базовый') as easy_tasks,
        array_agg(vpr_tasks.task_order order by vpr_tasks.task_order)
            filter (where vpr_tasks.difficulty <> 'базовый') as hard_tasks
    from (select distinct year, work_code from results) as work_years
    inner join vpr_tasks
        on work_years.work_code = vpr_tasks.work_code
        and work_years.year between vpr_tasks.year_from and vpr_tasks.year_to
    group by work_years.year, work_years.work_code

),

-- The region's mean and spread per year × work, aggregated and joined back rather than a window over the
-- participants: with the task sums computed in place, the window was most of what was left of the model
-- (the federal year's 21 million participants: 50 s with it, 21 s without).
region_scores as (

    select
        year, work_code, region_code,
        avg(primary_score) as mean_score,
        stddev_samp(primary_score) as score_sd
    from results
    group by year, work_code, region_code

),

final as (

    select
        results.year, results.login, results.region_code, results.work_code, results.subject_code,
        results.grade, results.participant_code, results.primary_score, results.mark, results.journal_mark,
        -- Standardised within the region's year × work, so works and years with different scales and
        -- difficulty (the 2020 autumn ВПР) compare. The region is read from the login, as in stg_schools.
        (results.primary_score - region_scores.mean_score) / nullif(region_scores.score_sd, 0) as z_score,
        case
            when results.journal_mark is null then null
            when results.mark > results.journal_mark then 'повысили'
            when results.mark < results.journal_mark then 'понизили'
            else 'подтвердили'
        end as journal_comparison,
        -- Success rates on easy and hard tasks; a task not attempted earns 0.
        {{ ratio(sum_at_positions('task_positions.easy_tasks', 'results.task_scores', '0'),
                 sum_at_positions('task_positions.easy_tasks', 'results.task_max')) }} as easy_rate,
        {{ ratio(sum_at_positions('task_positions.hard_tasks', 'results.task_scores', '0'),
                 sum_at_positions('task_positions.hard_tasks', 'results.task_max')) }} as hard_rate
    from results
    inner join region_scores
        on results.year = region_scores.year and results.work_code = region_scores.work_code
        and results.region_code = region_scores.region_code
    left join task_positions
        on results.year = task_positions.year and results.work_code = task_positions.work_code

)

select * from final
