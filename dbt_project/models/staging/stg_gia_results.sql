{#- ГИА results of both layouts, one row per participant × exam attempt, with the school's login.
    A РЦОИ list («ведомость») names the school by its РЦОИ code: the login comes from the crosswalk
    raw.gia_school_codes of the year (Код ОО, or the ОГЭ / ЕГЭ code of the list's exam). Rows of a code not
    in the crosswalk are kept aside in stg_gia_unmapped_school_codes, not here, until it is mapped.
    An appeal (raw.gia_appeals) replaces the scores it names: the latest change of the participant's exam
    applies, the listed scores stay beside it. In a list a retake is a later list of the same exam. -#}
{#- A table, unlike the other staging models: the ГИА models and tests all read it, and a view
    recomputed the participant rows for each reader (30–46 s each at federal scale). -#}
{{ config(materialized='table') }}
with

source as (

    select * from {{ source('raw', 'gia_results') }}

),

login_aliases as (

    select * from {{ source('raw', 'login_aliases') }}

),

crosswalk as (

    select * from {{ source('raw', 'gia_school_codes') }}

),

codes as (

    {{ gia_codes_by_exam('crosswalk') }}

),

candidates as (

    select
        source.*,
        coalesce(lower(trim(source.login)), lower(trim(codes.login))) as mapped_login,
        row_number() over (
            partition by source._source_file, source._row_number
            order by codes.preference, codes.login
        ) as match_rank
    from source
    left join codes
        on source.login is null
        and source.year = codes.year
        and source.exam_type = codes.exam_type
        and trim(source.school_code) = codes.code

),

mapped as (

    select * from candidates
    where match_rank = 1 and mapped_login is not null

),

appeals as (

    select
        year,
        upper(trim(exam_type)) as exam_type,
        subject_code,
        participant_code,
        primary_score_after,
        test_score_after,
        mark_after,
        count(*) over (partition by year, exam_type, subject_code, participant_code) as appeals,
        row_number() over (
            partition by year, exam_type, subject_code, participant_code
            order by {{ gia_appeal_time('appeal_changed_at') }} desc, {{ gia_appeal_time('appeal_sent_at') }} desc,
                _source_file desc, _row_number desc
        ) as latest_first
    from {{ source('raw', 'gia_appeals') }}

),

latest_appeal as (

    select * from appeals where latest_first = 1

),

attempts as (

    select
        mapped.*,
        row_number() over (
            partition by mapped.year, mapped.exam_type, mapped.subject_code, mapped.participant_code
            order by mapped.exam_date, mapped._source_file, mapped._row_number
        ) as attempt
    from mapped

),

renamed as (

    select
        attempts.year,
        upper(trim(attempts.exam_type)) as exam_type,
        attempts.subject_code,
        trim(attempts.subject_name) as subject_name,
        {{ canonical_login('attempts.mapped_login') }} as login,
        attempts.school_code,
        attempts.exam_date,
        attempts.participant_code,
        coalesce(latest_appeal.primary_score_after, attempts.primary_score) as primary_score,
        coalesce(latest_appeal.test_score_after, attempts.test_score) as test_score,
        coalesce(latest_appeal.mark_after, attempts.mark) as mark,
        attempts.primary_score as primary_score_listed,
        attempts.test_score as test_score_listed,
        attempts.mark as mark_listed,
        coalesce(latest_appeal.appeals, 0) as appeals,
        coalesce(
            coalesce(latest_appeal.test_score_after, attempts.test_score) <> attempts.test_score
            or coalesce(latest_appeal.primary_score_after, attempts.primary_score) <> attempts.primary_score
            or coalesce(latest_appeal.mark_after, attempts.mark) <> attempts.mark,
            false
        ) as is_changed_by_appeal,
        attempts.min_score as min_score_in_file,
        attempts.percent_complete,
        coalesce(attempts.is_retake, attempts.school_code is not null and attempts.attempt > 1, false) as is_retake,
        lower(trim(attempts.form)) as form,
        coalesce(lower(trim(attempts.form)) = 'промежуточная аттестация', false) as is_school_marks,
        attempts._source_file as source_file,
        attempts._row_number as source_row_number

    from attempts
    left join latest_appeal
        on attempts.year = latest_appeal.year
        and upper(trim(attempts.exam_type)) = latest_appeal.exam_type
        and attempts.subject_code = latest_appeal.subject_code
        and attempts.participant_code = latest_appeal.participant_code
        -- an appeal concerns the participant's first attempt unless a retake list is the only one
        and attempts.attempt = 1

)

select * from renamed
