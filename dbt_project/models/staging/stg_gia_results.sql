with

source as (

    select * from {{ source('raw', 'gia_results') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

renamed as (

    select
        year,
        upper(trim(exam_type)) as exam_type,
        subject_code,
        trim(subject_name) as subject_name,
        {{ canonical_login('source.login') }} as login,
        participant_code,
        primary_score,
        test_score,
        mark,
        min_score as min_score_in_file,
        percent_complete,
        coalesce(is_retake, false) as is_retake,
        lower(trim(form)) as form,
        coalesce(lower(trim(form)) = 'промежуточная аттестация', false) as is_school_marks,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

select * from renamed
