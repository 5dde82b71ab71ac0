{{ config(tags=['integrity'], severity='warn') }}
-- Every РЦОИ school code of a loaded list is in the crosswalk registry/gia_school_codes.xlsx for the list's
-- year; the rows of an unmapped code are kept aside (stg_gia_unmapped_school_codes), listed here by file
-- and row, until the crosswalk maps it.
select source_file, source_row_number, year, exam_type, subject_code, school_code
from {{ ref('stg_gia_unmapped_school_codes') }}
