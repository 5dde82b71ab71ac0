{#- ВПР and ГИА participant results on one footing: one row per participant × work attempt, with the
    work label FIOKO uses, whether the result is «неудовлетворительно», a 0–100 score and a score
    standardised within region × year × work. Participant-level: intermediate only, never in marts. -#}
with

vpr as (

    select * from {{ ref('stg_vpr_results') }}

),

vpr_works as (

    select * from {{ ref('vpr_works') }}

),

gia as (

    select * from {{ ref('stg_gia_results') }}

),

gia_subjects as (

    select * from {{ ref('gia_subjects') }}

),

gia_min_scores as (

    select * from {{ ref('gia_min_scores') }}

),

vpr_results as (

    select
        vpr.year,
        vpr.login,
        'ВПР' as assessment,
        vpr.work_code,
        'ВПР ' || vpr.work_code as work_label,
        'ВПР ' || replace(replace(vpr.work_code, 'RU', 'РУ'), 'MA', 'МА') as work_label_ru,
        vpr.subject_code as subject_group,
        vpr.grade,
        vpr.participant_code,
        false as is_retake,
        true as is_independent,
        'mark' as result_kind,
        vpr.mark,
        vpr.primary_score,
        cast(null as integer) as test_score,
        3 as min_mark,
        cast(null as integer) as min_test_score,
        100.0 * vpr.primary_score / nullif(vpr_works.max_primary_score, 0) as score_100,
        {{ dbt.cast('vpr.primary_score', type_double()) }} as raw_score

    from vpr
    left join vpr_works
        on vpr.work_code = vpr_works.work_code
        and vpr.year between vpr_works.year_from and vpr_works.year_to

),

gia_results as (

    select
        gia.year,
        gia.login,
        gia.exam_type as assessment,
        gia_subjects.work_code,
        gia_subjects.work_label,
        gia_subjects.work_label_ru,
        gia_subjects.subject_group,
        gia_subjects.grade,
        gia.participant_code,
        gia.is_retake,
        {#- An exam not held in the year (no row in gia_min_scores: ЕГЭ base maths 2020–2021) is no result,
            never a low one: not independent and without a threshold, so is_fail stays null. -#}
        (not gia.is_school_marks and gia_min_scores.year is not null) as is_independent,
        gia_subjects.result_kind,
        gia.mark,
        gia.primary_score,
        gia.test_score,
        case when gia_min_scores.year is not null then coalesce(gia_min_scores.min_mark, 3) end as min_mark,
        case when gia_min_scores.year is not null
            then coalesce(gia_min_scores.min_test_score, gia.min_score_in_file) end as min_test_score,
        case
            when gia_subjects.result_kind = 'test_score' then {{ dbt.cast('gia.test_score', type_double()) }}
            else gia.percent_complete
        end as score_100,
        case
            when gia_subjects.result_kind = 'test_score' then {{ dbt.cast('gia.test_score', type_double()) }}
            else {{ dbt.cast('gia.primary_score', type_double()) }}
        end as raw_score

    from gia
    inner join gia_subjects
        on gia.exam_type = gia_subjects.exam_type
        and gia.subject_code = gia_subjects.subject_code
    left join gia_min_scores
        on gia.year = gia_min_scores.year
        and gia.exam_type = gia_min_scores.exam_type
        and gia.subject_code = gia_min_scores.subject_code

),

unioned as (

    select * from vpr_results
    union all
    select * from gia_results

),

classified as (

    select
        unioned.*,
        {{ region_code_from_login('login') }} as region_code,
        (mark is not null or test_score is not null or primary_score is not null) as has_result,
        case
            when mark is null and test_score is null then null
            when result_kind = 'test_score' then test_score < min_test_score
            else mark < min_mark
        end as is_fail,
        case
            when result_kind = 'mark' and mark is not null then mark >= 4
        end as is_quality,
        (not is_retake and is_independent and raw_score is not null) as is_standardised
    from unioned

),

-- The region's mean and spread of the standardised results per year × work, aggregated and joined back:
-- a window over the participants holds every partition's rows (28 million in a federal year).
region_scores as (

    select
        region_code, year, work_label,
        avg(raw_score) as mean_score,
        stddev_samp(raw_score) as score_sd
    from classified
    where is_standardised
    group by region_code, year, work_label

),

standardised as (

    select
        classified.*,
        case when classified.is_standardised then
            (classified.raw_score - region_scores.mean_score) / nullif(region_scores.score_sd, 0)
        end as score_z
    from classified
    left join region_scores
        on classified.region_code = region_scores.region_code and classified.year = region_scores.year
        and classified.work_label = region_scores.work_label

)

select
    year,
    login,
    region_code,
    assessment,
    work_code,
    work_label,
    work_label_ru,
    subject_group,
    grade,
    participant_code,
    is_retake,
    is_independent,
    result_kind,
    has_result,
    mark,
    primary_score,
    test_score,
    min_mark,
    min_test_score,
    is_fail,
    is_quality,
    score_100,
    score_z
from standardised
