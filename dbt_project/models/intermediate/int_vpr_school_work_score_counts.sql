{#- School × year × work × primary score: participants at each score, from participant rows where the
    school has them for the work, else from a «Распределение первичных баллов» report (B3 or ФИС ОКО). -#}
with

counts as (

    select * from {{ ref('int_vpr_school_work_counts') }}
    where scores_from is not null

),

from_participants as (

    select year, login, work_code, primary_score as score, count(*) as pupils
    from {{ ref('stg_vpr_results') }}
    where not is_absent and primary_score is not null
    group by year, login, work_code, primary_score

),

from_reports as (

    select year, login, work_code, measure_value as score, pupils
    from {{ ref('stg_vpr_report_counts') }}
    where group_level = 'school' and report = 'score_distribution' and login is not null

)

select c.year, c.login, c.region_code, c.work_code, c.scores_from, p.score, p.pupils
from counts as c
inner join from_participants as p
    on p.year = c.year and p.login = c.login and p.work_code = c.work_code
where c.scores_from = 'participant_rows'
union all
select c.year, c.login, c.region_code, c.work_code, c.scores_from, r.score, r.pupils
from counts as c
inner join from_reports as r
    on r.year = c.year and r.login = c.login and r.work_code = c.work_code
where c.scores_from = 'score_distribution'
