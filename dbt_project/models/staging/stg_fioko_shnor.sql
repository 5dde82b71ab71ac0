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

-- Rows repeated word for word (ingestion warns, `repeated_row`; FIOKO's 2024 Dagestan list repeats every row)
-- are counted once: the first is kept with its lineage and `copies` says how many the files held. A repeat
-- with other values never gets here: ingestion quarantines it (`conflicting_row`, `contradicts_file`).
-- (DISTINCT ON: DuckDB and PostgreSQL both have it; the window is computed before it.)
select distinct on (list_year, login) *, count(*) over (partition by list_year, login) as copies
from renamed
order by list_year, login, source_file, source_row_number
