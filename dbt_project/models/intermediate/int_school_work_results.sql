{#- One row per school × year × work: counts and sums of first-attempt results, from which the marts
    compute shares and means (sums, not means, so municipality and region values pool participants).
    ВПР works of a school with no participant rows come from the ФИС ОКО reports (int_vpr_school_work_counts):
    marks from «Статистика по отметкам», scores from «Распределение первичных баллов» where one exists;
    `level_of_detail` says which. -#}
with

results as (

    select * from {{ ref('int_assessment_results') }}

),

rules as (

    select year, ege_high_score_min from {{ ref('int_rules_by_year') }}

),

report_counts as (

    select * from {{ ref('int_vpr_school_work_counts') }}
    where level_of_detail = 'reports' and marks_from is not null

),

report_scores as (

    select year, login, work_code, sum(score * pupils) as score_sum, sum(pupils) as score_count
    from {{ ref('int_vpr_school_work_score_counts') }}
    where scores_from = 'score_distribution'
    group by year, login, work_code

),

vpr_works as (

    select * from {{ ref('vpr_works') }}

),

aggregated as (

    select
        results.login,
        results.region_code,
        results.year,
        results.assessment,
        results.work_code,
        results.work_label,
        results.work_label_ru,
        results.subject_group,
        results.grade,
        results.result_kind,
        {{ count_if('not results.is_retake and results.has_result') }} as participants,
        {{ count_if('not results.is_retake and not results.has_result') }} as absent,
        {{ count_if('results.is_retake and results.has_result') }} as retake_participants,
        min(case when results.is_retake then 1 when results.is_independent then 1 else 0 end) = 1 as is_independent,
        {{ count_if('not results.is_retake and results.is_fail') }} as fail_count,
        {{ count_if('not results.is_retake and not results.is_fail') }} as pass_count,
        {{ count_if('not results.is_retake and results.is_quality') }} as quality_count,
        {{ count_if('not results.is_retake and results.mark = 5') }} as mark_5_count,
        sum(case when not results.is_retake then results.mark end) as mark_sum,
        {{ count_if('not results.is_retake and results.mark is not null') }} as mark_count,
        sum(case when not results.is_retake then results.primary_score end) as primary_score_sum,
        {{ count_if('not results.is_retake and results.primary_score is not null') }} as primary_score_count,
        sum(case when not results.is_retake then results.test_score end) as test_score_sum,
        {{ count_if('not results.is_retake and results.test_score is not null') }} as test_score_count,
        {{ count_if('not results.is_retake and results.test_score >= rules.ege_high_score_min') }} as high_scorer_count,
        sum(case when not results.is_retake then results.score_100 end) as score_100_sum,
        {{ count_if('not results.is_retake and results.score_100 is not null') }} as score_100_count,
        sum(results.score_z) as score_z_sum,
        sum(results.score_z * results.score_z) as score_z_squares,
        count(results.score_z) as score_z_count,
        'participant_rows' as level_of_detail

    from results
    left join rules
        on results.year = rules.year
    group by
        results.login,
        results.region_code,
        results.year,
        results.assessment,
        results.work_code,
        results.work_label,
        results.work_label_ru,
        results.subject_group,
        results.grade,
        results.result_kind

),

from_reports as (

    select
        r.login,
        r.region_code,
        r.year,
        'ВПР' as assessment,
        r.work_code,
        'ВПР ' || r.work_code as work_label,
        'ВПР ' || replace(replace(r.work_code, 'RU', 'РУ'), 'MA', 'МА') as work_label_ru,
        r.subject_code as subject_group,
        r.grade,
        'mark' as result_kind,
        {{ dbt.cast('r.participants', dbt.type_bigint()) }} as participants,
        {{ dbt.cast('null', dbt.type_bigint()) }} as absent,
        {{ dbt.cast('0', dbt.type_bigint()) }} as retake_participants,
        true as is_independent,
        {{ dbt.cast('r.mark_2', dbt.type_bigint()) }} as fail_count,
        {{ dbt.cast('r.mark_3 + r.mark_4 + r.mark_5', dbt.type_bigint()) }} as pass_count,
        {{ dbt.cast('r.mark_4 + r.mark_5', dbt.type_bigint()) }} as quality_count,
        {{ dbt.cast('r.mark_5', dbt.type_bigint()) }} as mark_5_count,
        {{ dbt.cast('2 * r.mark_2 + 3 * r.mark_3 + 4 * r.mark_4 + 5 * r.mark_5', dbt.type_bigint()) }} as mark_sum,
        {{ dbt.cast('r.mark_2 + r.mark_3 + r.mark_4 + r.mark_5', dbt.type_bigint()) }} as mark_count,
        {{ dbt.cast('s.score_sum', dbt.type_bigint()) }} as primary_score_sum,
        {{ dbt.cast('coalesce(s.score_count, 0)', dbt.type_bigint()) }} as primary_score_count,
        {{ dbt.cast('null', dbt.type_bigint()) }} as test_score_sum,
        {{ dbt.cast('0', dbt.type_bigint()) }} as test_score_count,
        {{ dbt.cast('0', dbt.type_bigint()) }} as high_scorer_count,
        100.0 * s.score_sum / nullif(w.max_primary_score, 0) as score_100_sum,
        {{ dbt.cast('coalesce(s.score_count, 0)', dbt.type_bigint()) }} as score_100_count,
        {{ dbt.cast('null', type_double()) }} as score_z_sum,
        {{ dbt.cast('null', type_double()) }} as score_z_squares,
        {{ dbt.cast('0', dbt.type_bigint()) }} as score_z_count,
        'reports' as level_of_detail
    from report_counts as r
    left join report_scores as s
        on s.year = r.year and s.login = r.login and s.work_code = r.work_code
    left join vpr_works as w
        on w.work_code = r.work_code and r.year between w.year_from and w.year_to

)

select * from aggregated
union all
select * from from_reports
