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

-- Rows repeated word for word (ingestion warns, `repeated_row`; FIOKO's 2024 Dagestan list repeats every row)
-- are counted once: the first is kept with its lineage and `copies` says how many the files held. A repeat
-- with other values never gets here: ingestion quarantines it (`conflicting_row`, `contradicts_file`).
-- (DISTINCT ON: DuckDB and PostgreSQL both have it; the window is computed before it.)
select distinct on (year, login, factor) *, count(*) over (partition by year, login, factor) as copies
from renamed
order by year, login, factor, source_file, source_row_number
