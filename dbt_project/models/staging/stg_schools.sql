with

source as (

    select * from {{ source('raw', 'schools') }}

),

renamed as (

    select
        lower(trim(login)) as login,
        trim(full_name) as full_name,
        coalesce(trim(short_name), trim(full_name)) as short_name,
        trim(municipality) as municipality,
        {{ region_code_from_login('lower(trim(login))') }} as region_code,
        trim(settlement_type) as settlement_type,
        trim(school_type) as school_type,
        enrolment,
        opened_year,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

select * from renamed
