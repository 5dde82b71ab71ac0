-- School × year × subject standing on the ОГЭ, the reference the ВПР standing is compared with by the
-- sign not_confirmed_by_gia. First attempts of real exams are standardised within the region's year ×
-- subject (the 2020 ОГЭ marks were school marks, form «промежуточная аттестация», and are left out), then
-- pooled over the window_years years up to and including the year: a school's exam standing is stable,
-- and small schools have few ОГЭ takers a year. Why not the cohort's own ОГЭ: docs/objectivity.md.
with

gia_results as (

    select * from {{ ref('stg_gia_results') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

takers as (

    select
        year,
        login,
        {{ region_code_from_login('login') }} as region_code,
        case subject_code when 1 then 'RU' when 2 then 'MA' end as subject_code,
        primary_score
    from gia_results
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
    from thresholds
    where sign = 'not_confirmed_by_gia'

),

reference_years as (

    select distinct standardised.year as reference_year, window_years.window_years
    from standardised
    inner join window_years
        on standardised.year between window_years.year_from and window_years.year_to

),

pooled as (

    select
        reference_years.reference_year as year,
        standardised.login,
        standardised.region_code,
        standardised.subject_code,
        count(*) as oge_participants,
        avg(standardised.z_score) as oge_mean_z,
        string_agg(distinct {{ dbt.cast('standardised.year', dbt.type_string()) }}, ', '
            order by {{ dbt.cast('standardised.year', dbt.type_string()) }}) as oge_years
    from reference_years
    inner join standardised
        on standardised.year between reference_years.reference_year - reference_years.window_years + 1
            and reference_years.reference_year
    group by reference_years.reference_year, standardised.login, standardised.region_code, standardised.subject_code

),

final as (

    select
        *,
        percent_rank() over (
            partition by year, subject_code, region_code order by {{ decimal_9("oge_mean_z") }}
        ) as oge_percentile
    from pooled

)

select * from final
