{#- FIOKO «500+» risk profiles (рисковые профили), school × year × factor, joined to the versioned factor
    list (seed risk_factors): a factor not valid for the profile's year is flagged as unknown. -#}
with

profiles as (

    select * from {{ ref('stg_fioko_risk_profiles') }}

),

factors as (

    select * from {{ ref('risk_factors') }}

),

schools as (

    select login, short_name, municipality from {{ ref('stg_schools') }}

),

final as (

    select
        profiles.login,
        coalesce(schools.short_name, profiles.school_name) as school_name,
        schools.municipality,
        {{ region_code_from_login('profiles.login') }} as region_code,
        profiles.year,
        profiles.factor,
        profiles.level,
        profiles.level_rank,
        (factors.factor is not null) as is_known_factor,
        factors.valid_from_year as factor_valid_from_year,
        factors.valid_to_year as factor_valid_to_year
    from profiles
    left join factors
        on profiles.factor = factors.factor
        and profiles.year >= factors.valid_from_year
        and profiles.year <= coalesce(factors.valid_to_year, 9999)
    left join schools
        on profiles.login = schools.login

)

select * from final
