{#- Rows of РЦОИ lists whose school code is not in the crosswalk raw.gia_school_codes for the list's year:
    one row per file and row, kept aside (not dropped, not guessed) until the crosswalk maps the code.
    No participant column: the file and row are where a person finds them. -#}
with

source as (

    select * from {{ source('raw', 'gia_results') }}
    where login is null

),

crosswalk as (

    select * from {{ source('raw', 'gia_school_codes') }}

)

select
    source._source_file as source_file,
    source._row_number as source_row_number,
    source.year,
    upper(trim(source.exam_type)) as exam_type,
    source.subject_code,
    source.school_code
from source
where not exists (
    select 1 from crosswalk
    where crosswalk.year = source.year
      and (
          trim(crosswalk.school_code) = trim(source.school_code)
          or (source.exam_type in ('ОГЭ', 'ГВЭ') and trim(crosswalk.oge_code) = trim(source.school_code))
          or (source.exam_type = 'ЕГЭ' and trim(crosswalk.ege_code) = trim(source.school_code))
      )
)
