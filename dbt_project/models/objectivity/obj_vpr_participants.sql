-- One row per ВПР participant with what the objectivity signs need. Pseudonymous and never published:
-- the signs aggregate it to school × year × work before anything leaves the working database.
with results as (
    select
        v.year, v.login, {{ region_code_from_login('v.login') }} as region_code,
        v.work_code, v.subject_code, v.grade, v.participant_code,
        v.primary_score, v.mark, v.journal_mark, v.task_scores, v.task_max,
        w.cut_3, w.cut_4
    from {{ ref('stg_vpr_results') }} as v
    join {{ ref('vpr_works') }} as w
        on w.work_code = v.work_code and v.year between w.year_from and w.year_to
    where not v.is_absent
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
        p.year, p.login, p.work_code, p.participant_code,
        {{ ratio("sum(coalesce(p.score, 0)) filter (where t.difficulty = 'базовый')",
                 "sum(p.max_score) filter (where t.difficulty = 'базовый')") }} as easy_rate,
        {{ ratio("sum(coalesce(p.score, 0)) filter (where t.difficulty <> 'базовый')",
                 "sum(p.max_score) filter (where t.difficulty <> 'базовый')") }} as hard_rate
    from task_points as p
    join {{ ref('vpr_tasks') }} as t
        on t.work_code = p.work_code and t.task_order = p.task_order
        and p.year between t.year_from and t.year_to
    group by p.year, p.login, p.work_code, p.participant_code
)

select
    r.year, r.login, r.region_code, r.work_code, r.subject_code, r.grade, r.participant_code,
    r.primary_score, r.mark, r.journal_mark,
    -- Standardised within the region's year × work, so works and years with different scales and
    -- difficulty (the 2020 autumn ВПР) compare. The region is read from the login, as in stg_schools.
    (r.primary_score - avg(r.primary_score) over region)
        / nullif(stddev_samp(r.primary_score) over region, 0) as z_score,
    case
        when r.journal_mark is null then null
        when r.mark > r.journal_mark then 'повысили'
        when r.mark < r.journal_mark then 'понизили'
        else 'подтвердили'
    end as journal_comparison,
    -- The window around the «3» and «4» cuts where lenient grading moves scores: two points below a cut
    -- against the cut itself and one point above. Where two cuts are close a score counts at the cut.
    r.primary_score between r.cut_3 and r.cut_3 + 1
        or r.primary_score between r.cut_4 and r.cut_4 + 1 as at_cut,
    not (
        r.primary_score between r.cut_3 and r.cut_3 + 1
        or r.primary_score between r.cut_4 and r.cut_4 + 1
    ) and (
        r.primary_score between r.cut_3 - 2 and r.cut_3 - 1
        or r.primary_score between r.cut_4 - 2 and r.cut_4 - 1
    ) as below_cut,
    d.easy_rate,
    d.hard_rate
from results as r
left join by_difficulty as d
    on d.year = r.year and d.login = r.login and d.work_code = r.work_code
    and d.participant_code = r.participant_code
window region as (partition by r.year, r.work_code, r.region_code)
