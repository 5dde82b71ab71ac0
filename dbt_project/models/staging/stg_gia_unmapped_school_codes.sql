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

),

codes as (

    {{ gia_codes_by_exam('crosswalk') }}

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
    select 1 from codes
    where codes.year = source.year
      and codes.exam_type = source.exam_type
      and codes.code = trim(source.school_code)
)
