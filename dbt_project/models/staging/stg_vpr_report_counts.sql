{#- ФИС ОКО aggregated ВПР reports, one row per group × year × work × report × measure. A group that
    several files report (a region's report and a municipality's) is taken once, from the file loaded
    last; school logins are the registry's (confirmed aliases applied). -#}
with

source as (

    select * from {{ source('raw', 'vpr_report_counts') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

renamed as (

    select
        year,
        upper(trim(work_code)) as work_code,
        upper(trim(subject_code)) as subject_code,
        grade,
        report,
        report_title,
        report_date,
        max_primary_score,
        layout,
        group_level,
        group_name,
        case when login is not null then {{ canonical_login('source.login') }} end as login,
        municipality_code,
        municipality,
        schools,
        participants,
        measure,
        measure_value,
        percent,
        {{ adapter.quote('count') }} as pupils,
        count_in_file,
        _source_file as source_file,
        _row_number as source_row_number,
        _loaded_at as loaded_at
    from source

),

ranked as (

    select
        renamed.*,
        case
            when group_level = 'school' then {{ region_code_from_login('login') }}
            when municipality_code is not null then split_part(substring(municipality_code, 4), '_', 1)
        end as region_code,
        row_number() over (
            partition by year, work_code, report, group_level, coalesce(login, municipality_code, group_name), measure
            order by loaded_at desc, source_file desc
        ) as file_rank
    from renamed

)

select
    year, work_code, subject_code, grade, report, report_title, report_date, max_primary_score, layout,
    group_level, group_name, login, region_code, municipality_code, municipality, schools, participants,
    measure, measure_value, percent, pupils, count_in_file, source_file, source_row_number
from ranked
where file_rank = 1
