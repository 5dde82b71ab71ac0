with

source as (

    select * from {{ source('raw', 'fioko_shnor') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

renamed as (

    select
        year as list_year,
        {{ canonical_login('source.login') }} as login,
        trim(school_name) as school_name,
        trim(municipality) as municipality,
        trim(level) as level,
        case trim(level)
            when 'Сильно неуспевающие' then 3
            when 'Умеренно неуспевающие' then 2
            when 'Базово неуспевающие' then 1
        end as level_rank,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

select * from renamed
