-- School × year × subject standing on the ОГЭ, the reference the ВПР standing is compared with by the
-- sign not_confirmed_by_gia. First attempts of real exams are standardised within the region's year ×
-- subject (the 2020 ОГЭ marks were school marks, form «промежуточная аттестация», and are left out), then
-- pooled over the window_years years up to and including the year: a school's exam standing is stable,
-- and small schools have few ОГЭ takers a year. Why not the cohort's own ОГЭ: docs/objectivity.md.
with takers as (
    select
        year,
        login,
        {{ region_code_from_login('login') }} as region_code,
        case subject_code when 1 then 'RU' when 2 then 'MA' end as subject_code,
        primary_score
    from {{ ref('stg_gia_results') }}
    where exam_type = 'ОГЭ'
        and subject_code in (1, 2)
        and not is_retake
        and not is_school_marks
        and primary_score is not null
),

standardised as (
    select
        year, login, region_code, subject_code,
        (primary_score - avg(primary_score) over region)
            / nullif(stddev_samp(primary_score) over region, 0) as z_score
    from takers
    window region as (partition by year, subject_code, region_code)
),

window_years as (
    select year_from, year_to, window_years
    from {{ ref('objectivity_thresholds') }}
    where sign = 'not_confirmed_by_gia'
),

reference_years as (
    select distinct s.year as reference_year, w.window_years
    from standardised as s
    join window_years as w on s.year between w.year_from and w.year_to
),

pooled as (
    select
        r.reference_year as year,
        s.login,
        s.region_code,
        s.subject_code,
        count(*) as oge_participants,
        avg(s.z_score) as oge_mean_z,
        string_agg(distinct {{ dbt.cast('s.year', dbt.type_string()) }}, ', '
            order by {{ dbt.cast('s.year', dbt.type_string()) }}) as oge_years
    from reference_years as r
    join standardised as s
        on s.year between r.reference_year - r.window_years + 1 and r.reference_year
    group by r.reference_year, s.login, s.region_code, s.subject_code
)

select
    *,
    percent_rank() over (partition by year, subject_code, region_code order by {{ decimal_9("oge_mean_z") }}) as oge_percentile
from pooled
