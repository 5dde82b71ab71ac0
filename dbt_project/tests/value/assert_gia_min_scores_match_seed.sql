{{ config(tags=['value'], severity='warn', meta={'dagster': {'ref': {'name': 'stg_gia_results'}}}) }}
-- The minimum threshold written in the РЦОИ file agrees with seed gia_min_scores (the rule uses the seed).
select
    gia.year,
    gia.exam_type,
    gia.subject_code,
    gia.min_score_in_file,
    coalesce(seed.min_test_score, seed.min_mark) as min_score_in_seed,
    count(*) as rows_affected
from {{ ref('stg_gia_results') }} as gia
left join {{ ref('gia_min_scores') }} as seed
    on gia.year = seed.year
    and gia.exam_type = seed.exam_type
    and gia.subject_code = seed.subject_code
where gia.min_score_in_file is not null
  and (seed.year is null or gia.min_score_in_file <> coalesce(seed.min_test_score, seed.min_mark))
group by gia.year, gia.exam_type, gia.subject_code, gia.min_score_in_file, coalesce(seed.min_test_score, seed.min_mark)
