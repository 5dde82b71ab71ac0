{#- Where a school has both participant rows and a ФИС ОКО report for the same work and year, the
    participant rows are used; this mart lists every count on which the report disagrees with them
    (participants, a mark, понизили / подтвердили / повысили, a primary score), with the report's file
    and row, so that no difference is dropped silently. -#}
with

both_levels as (

    select year, login, work_code from {{ ref('int_vpr_school_work_counts') }}
    where has_both_levels

),

results as (

    select v.*
    from {{ ref('stg_vpr_results') }} as v
    inner join both_levels as b on b.year = v.year and b.login = v.login and b.work_code = v.work_code
    where not v.is_absent and (v.mark is not null or v.primary_score is not null)

),

reports as (

    select r.*
    from {{ ref('stg_vpr_report_counts') }} as r
    inner join both_levels as b on b.year = r.year and b.login = r.login and b.work_code = r.work_code
    where r.group_level = 'school'

),

participant_measures as (

    select year, login, work_code, 'mark_statistics' as report, 'mark_' || {{ dbt.cast('mark', dbt.type_string()) }} as measure,
        count(*) as pupils
    from results where mark is not null group by year, login, work_code, mark
    union all
    select year, login, work_code, 'journal_comparison',
        case when mark < journal_mark then 'lowered' when mark = journal_mark then 'confirmed' else 'raised' end,
        count(*)
    from results where mark is not null and journal_mark is not null
    group by year, login, work_code,
        case when mark < journal_mark then 'lowered' when mark = journal_mark then 'confirmed' else 'raised' end
    union all
    select year, login, work_code, 'score_distribution', 'score_' || {{ dbt.cast('primary_score', dbt.type_string()) }},
        count(*)
    from results where primary_score is not null group by year, login, work_code, primary_score

),

participant_totals as (

    select year, login, work_code, count(*) as pupils from results group by year, login, work_code

),

report_rows as (

    select year, login, work_code, report, measure, pupils, source_file, source_row_number from reports
    union all
    select distinct year, login, work_code, report, 'participants', participants, source_file, source_row_number
    from reports where report <> 'journal_comparison'

),

compared as (

    select
        r.year,
        r.login,
        r.work_code,
        r.report,
        r.measure,
        r.pupils as report_pupils,
        case when r.measure = 'participants' then t.pupils else coalesce(p.pupils, 0) end as participant_pupils,
        r.source_file,
        r.source_row_number
    from report_rows as r
    left join participant_measures as p
        on p.year = r.year and p.login = r.login and p.work_code = r.work_code and p.report = r.report
        and p.measure = r.measure
    left join participant_totals as t
        on t.year = r.year and t.login = r.login and t.work_code = r.work_code

)

select
    c.year,
    c.login,
    s.short_name as school_name,
    c.work_code,
    c.report,
    c.measure,
    c.participant_pupils,
    c.report_pupils,
    c.report_pupils - c.participant_pupils as difference,
    c.source_file,
    c.source_row_number
from compared as c
left join {{ ref('stg_schools') }} as s on s.login = c.login
where c.report_pupils is distinct from c.participant_pupils
