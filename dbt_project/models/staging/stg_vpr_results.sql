with

source as (

    select * from {{ source('raw', 'vpr_results') }}

),

renamed as (

    select
        year,
        lower(trim(login)) as login,
        upper(trim(work_code)) as work_code,
        upper(trim(subject_code)) as subject_code,
        grade,
        participant_code,
        trim(class_letter) as class_letter,
        variant,
        trim(sex) as sex,
        task_scores,
        task_max,
        primary_score,
        mark,
        journal_mark,
        _source_file as source_file,
        _row_number as source_row_number

    from source

)

select * from renamed
