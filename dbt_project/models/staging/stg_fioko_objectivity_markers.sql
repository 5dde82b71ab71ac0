with

source as (

    select * from {{ source('raw', 'fioko_objectivity_markers') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

renamed as (

    select
        year,
        {{ canonical_login('source.login') }} as login,
        trim(municipality) as municipality,
        trim(school_name) as school_name,
        trim(marker_column) as marker_column,
        upper(trim(work_code)) as work_code,
        marker,
        marker is not null as is_assessed,
        coalesce(marker = 1, false) as is_marked,
        marker_count,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

select * from renamed
