{#- ВПР participant rows of every layout, one row per pupil × work × year (absent pupils included and
    flagged). The mark is the file's where it carries one (report Ф1, archives), else the one the year's
    conversion scale gives (seed vpr_works); a file mark that disagrees with the scale is reported by the
    test assert_vpr_marks_match_cut_scores. -#}
{#- A table, unlike the other staging models: the ВПР models and tests all read it, and a view
    recomputed the participant rows for each reader (30–46 s each at federal scale). -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('raw', 'vpr_results') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

vpr_works as (

    select * from {{ ref('vpr_works') }}

),

renamed as (

    select
        year,
        {{ canonical_login('source.login') }} as login,
        upper(trim(work_code)) as work_code,
        upper(trim(subject_code)) as subject_code,
        grade,
        participant_code,
        trim(class_letter) as class_letter,
        variant,
        trim(sex) as sex,
        task_scores,
        task_max,
        case when not is_absent then primary_score end as primary_score,
        case when not is_absent then mark end as mark_in_file,
        journal_mark,
        is_absent,
        layout,
        _source_file as source_file,
        _row_number as source_row_number

    from source

),

final as (

    select
        renamed.*,
        coalesce(renamed.mark_in_file, {{ vpr_mark_from_scale('renamed.primary_score', 'vpr_works') }}) as mark

    from renamed
    left join vpr_works
        on renamed.work_code = vpr_works.work_code
        and renamed.year between vpr_works.year_from and vpr_works.year_to

)

select * from final
