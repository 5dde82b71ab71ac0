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

-- Rows repeated word for word (ingestion warns, `repeated_row`; FIOKO's 2024 Dagestan list repeats every row)
-- are counted once: the first is kept with its lineage and `copies` says how many the files held. A repeat
-- with other values never gets here: ingestion quarantines it (`conflicting_row`, `contradicts_file`).
-- (DISTINCT ON: DuckDB and PostgreSQL both have it; the window is computed before it.)
select distinct on (year, login, marker_column) *, count(*) over (partition by year, login, marker_column) as copies
from renamed
order by year, login, marker_column, source_file, source_row_number
