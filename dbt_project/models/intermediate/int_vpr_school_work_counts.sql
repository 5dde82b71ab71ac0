{#- One grain for both levels of ВПР detail: school × year × work counts of participants, marks 2–5 and the
    journal comparison (понизили / подтвердили / повысили), from participant rows where the school has them
    for the work and year, else from the ФИС ОКО reports. Participant rows win where both exist; every
    disagreement is listed in mart_vpr_report_reconciliation. `*_from` says which level each group of counts
    came from (participant_rows, mark_statistics, journal_comparison, score_distribution), NULL where no
    level gives it. Primary-score counts are in int_vpr_school_work_score_counts. -#}
with

results as (

    select * from {{ ref('stg_vpr_results') }}
    where not is_absent and (mark is not null or primary_score is not null)

),

reports as (

    select * from {{ ref('stg_vpr_report_counts') }}
    where group_level = 'school' and login is not null

),

from_participants as (

    select
        year,
        login,
        work_code,
        subject_code,
        grade,
        count(*) as participants,
        {{ count_if('mark = 2') }} as mark_2,
        {{ count_if('mark = 3') }} as mark_3,
        {{ count_if('mark = 4') }} as mark_4,
        {{ count_if('mark = 5') }} as mark_5,
        {{ count_if('mark is not null and journal_mark is not null') }} as with_journal,
        {{ count_if('mark < journal_mark') }} as lowered,
        {{ count_if('mark = journal_mark') }} as confirmed,
        {{ count_if('mark > journal_mark') }} as raised,
        {{ count_if('primary_score is not null') }} as with_score
    from results
    group by year, login, work_code, subject_code, grade

),

from_reports as (

    select
        year,
        login,
        work_code,
        max(subject_code) as subject_code,
        max(grade) as grade,
        max(case when report = 'mark_statistics' then participants end) as mark_participants,
        sum(case when report = 'mark_statistics' and measure = 'mark_2' then pupils end) as mark_2,
        sum(case when report = 'mark_statistics' and measure = 'mark_3' then pupils end) as mark_3,
        sum(case when report = 'mark_statistics' and measure = 'mark_4' then pupils end) as mark_4,
        sum(case when report = 'mark_statistics' and measure = 'mark_5' then pupils end) as mark_5,
        max(case when report = 'journal_comparison' then participants end) as journal_participants,
        sum(case when report = 'journal_comparison' then pupils end) as with_journal,
        sum(case when measure = 'lowered' then pupils end) as lowered,
        sum(case when measure = 'confirmed' then pupils end) as confirmed,
        sum(case when measure = 'raised' then pupils end) as raised,
        max(case when report = 'score_distribution' then participants end) as score_participants,
        sum(case when report = 'score_distribution' then pupils end) as with_score
    from reports
    group by year, login, work_code

),

combined as (

    select
        coalesce(p.year, r.year) as year,
        coalesce(p.login, r.login) as login,
        coalesce(p.work_code, r.work_code) as work_code,
        coalesce(p.subject_code, r.subject_code) as subject_code,
        coalesce(p.grade, r.grade) as grade,
        case when p.login is not null then 'participant_rows' else 'reports' end as level_of_detail,
        p.login is not null and r.login is not null as has_both_levels,
        case when p.login is not null then p.participants
             else coalesce(r.mark_participants, r.score_participants, r.journal_participants) end as participants,
        case when p.login is not null then 'participant_rows'
             when r.mark_2 is not null then 'mark_statistics' end as marks_from,
        case when p.login is not null then p.mark_2 else r.mark_2 end as mark_2,
        case when p.login is not null then p.mark_3 else r.mark_3 end as mark_3,
        case when p.login is not null then p.mark_4 else r.mark_4 end as mark_4,
        case when p.login is not null then p.mark_5 else r.mark_5 end as mark_5,
        case when p.login is not null then 'participant_rows'
             when r.with_journal is not null then 'journal_comparison' end as journal_from,
        case when p.login is not null then p.with_journal else r.with_journal end as with_journal,
        case when p.login is not null then p.lowered else r.lowered end as lowered,
        case when p.login is not null then p.confirmed else r.confirmed end as confirmed,
        case when p.login is not null then p.raised else r.raised end as raised,
        case when p.login is not null then 'participant_rows'
             when r.with_score is not null then 'score_distribution' end as scores_from,
        case when p.login is not null then p.with_score else r.with_score end as with_score
    from from_participants as p
    full outer join from_reports as r
        on p.year = r.year and p.login = r.login and p.work_code = r.work_code

)

select
    combined.*,
    {{ region_code_from_login('login') }} as region_code
from combined
