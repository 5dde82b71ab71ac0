{#- One row per school × year × work: counts and sums of first-attempt results, from which the marts
    compute shares and means (sums, not means, so municipality and region values pool participants). -#}
with

results as (

    select * from {{ ref('int_assessment_results') }}

),

rules as (

    select year, ege_high_score_min from {{ ref('int_rules_by_year') }}

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
        count(results.score_z) as score_z_count

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

)

select * from aggregated
