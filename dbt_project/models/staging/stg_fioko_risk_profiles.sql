with

source as (

    select * from {{ source('raw', 'fioko_risk_profiles') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

renamed as (

    select
        year,
        {{ canonical_login('source.login') }} as login,
        trim(school_name) as school_name,
        replace(trim(factor), '  ', ' ') as factor,
        lower(trim(level)) as level,
        case lower(trim(level))
            when 'высокий' then 3
            when 'средний' then 2
            when 'низкий' then 1
            when 'отсутствует' then 0
        end as level_rank,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

select * from renamed
