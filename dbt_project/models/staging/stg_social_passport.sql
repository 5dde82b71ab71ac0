with

source as (

    select * from {{ source('raw', 'social_passport') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

renamed as (

    select
        year,
        {{ canonical_login('source.login') }} as login,
        trim(school_name) as school_name,
        students_total,
        students_disabled_health,
        children_with_disability,
        on_school_register,
        on_police_register,
        large_families,
        single_parent_families,
        single_parent_families_pct,
        both_parents_higher_ed,
        one_parent_higher_ed,
        both_parents_unemployed,
        non_native_russian,
        school_bus,
        low_income_families,
        low_income_families_pct,
        teachers_total,
        vacancies,
        teachers_higher_ped_ed,
        teachers_category,
        teachers_pension_age,
        teachers_upskilled_3y,
        weekly_load_hours,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

-- Rows repeated word for word (ingestion warns, `repeated_row`; FIOKO's 2024 Dagestan list repeats every row)
-- are counted once: the first is kept with its lineage and `copies` says how many the files held. A repeat
-- with other values never gets here: ingestion quarantines it (`conflicting_row`, `contradicts_file`).
-- (DISTINCT ON: DuckDB and PostgreSQL both have it; the window is computed before it.)
select distinct on (year, login) *, count(*) over (partition by year, login) as copies
from renamed
order by year, login, source_file, source_row_number
