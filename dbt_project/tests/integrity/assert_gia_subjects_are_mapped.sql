{{ config(tags=['integrity'], severity='warn', meta={'dagster': {'ref': {'name': 'stg_gia_results'}}}) }}
-- ГИА exams outside seed gia_subjects are left out of every indicator: list them.
select gia.exam_type, gia.subject_code, max(gia.subject_name) as subject_name, count(*) as rows_left_out
from {{ ref('stg_gia_results') }} as gia
left join {{ ref('gia_subjects') }} as subjects
    on gia.exam_type = subjects.exam_type
    and gia.subject_code = subjects.subject_code
where subjects.work_label is null
group by gia.exam_type, gia.subject_code
