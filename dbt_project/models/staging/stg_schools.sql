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

-- Rows repeated word for word (ingestion warns, `repeated_row`; FIOKO's 2024 Dagestan list repeats every row)
-- are counted once: the first is kept with its lineage and `copies` says how many the files held. A repeat
-- with other values never gets here: ingestion quarantines it (`conflicting_row`, `contradicts_file`).
-- (DISTINCT ON: DuckDB and PostgreSQL both have it; the window is computed before it.)
select distinct on (login) *, count(*) over (partition by login) as copies
from renamed
order by login, source_file, source_row_number
