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

task_points as (

    select
        year, login, work_code, participant_code,
        unnest(task_scores) as score,
        unnest(task_max) as max_score,
        generate_subscripts(task_scores, 1) as task_order
    from results

),

-- Success rates on easy (базовый) and hard (повышенный, высокий) tasks; a task not attempted earns 0.
by_difficulty as (

    select
        task_points.year, task_points.login, task_points.work_code, task_points.participant_code,
        {{ ratio("sum(coalesce(task_points.score, 0)) filter (where vpr_tasks.difficulty = 'базовый')",
                 "sum(task_points.max_score) filter (where vpr_tasks.difficulty = 'базовый')") }} as easy_rate,
        {{ ratio("sum(coalesce(task_points.score, 0)) filter (where vpr_tasks.difficulty <> 'базовый')",
                 "sum(task_points.max_score) filter (where vpr_tasks.difficulty <> 'базовый')") }} as hard_rate
    from task_points
    inner join vpr_tasks
        on task_points.work_code = vpr_tasks.work_code and task_points.task_order = vpr_tasks.task_order
        and task_points.year between vpr_tasks.year_from and vpr_tasks.year_to
    group by task_points.year, task_points.login, task_points.work_code, task_points.participant_code

),

final as (

    select
        results.year, results.login, results.region_code, results.work_code, results.subject_code,
        results.grade, results.participant_code, results.primary_score, results.mark, results.journal_mark,
        -- Standardised within the region's year × work, so works and years with different scales and
        -- difficulty (the 2020 autumn ВПР) compare. The region is read from the login, as in stg_schools.
        (results.primary_score - avg(results.primary_score) over region)
            / nullif(stddev_samp(results.primary_score) over region, 0) as z_score,
        case
            when results.journal_mark is null then null
            when results.mark > results.journal_mark then 'повысили'
            when results.mark < results.journal_mark then 'понизили'
            else 'подтвердили'
        end as journal_comparison,
        by_difficulty.easy_rate,
        by_difficulty.hard_rate
    from results
    left join by_difficulty
        on results.year = by_difficulty.year and results.login = by_difficulty.login
        and results.work_code = by_difficulty.work_code
        and results.participant_code = by_difficulty.participant_code
    window region as (partition by results.year, results.work_code, results.region_code)

)

select * from final
