-- School × year × ВПР work: counts and sums behind every per-work sign, beside the same figures for the
-- rest of the region (the region without the school itself, so a school is never compared with itself).
-- A school with no participant rows for the work is counted from its ФИС ОКО reports
-- (int_vpr_school_work_counts): marks from «Статистика по отметкам», the journal comparison from «Сравнение
-- отметок с отметками по журналу», and whether a «Распределение первичных баллов» gives its scores (the
-- heaping sign counts them in obj_cut_heaping); what no report gives stays NULL, and the sign that needs it
-- is «не вычисляется» in mart_objectivity_flags. `*_from` records the level each count came from.
with

participants as (

    select * from {{ ref('obj_vpr_participants') }}

),

-- The school's mean journal mark of the work: weak_above_journal is judged on the pupils at or below it.
school_journal as (

    select year, login, work_code, avg(journal_mark) as journal_mean
    from participants
    group by year, login, work_code

),

participants_with_school_journal as (

    select participants.*, school_journal.journal_mean
    from participants
    left join school_journal
        on participants.year = school_journal.year and participants.login = school_journal.login
        and participants.work_code = school_journal.work_code

),

report_counts as (

    select * from {{ ref('int_vpr_school_work_counts') }}
    where level_of_detail = 'reports'

),

participant_school as (

    select
        year, login, region_code, work_code, subject_code, grade,
        count(*) as participants,
        count(*) filter (where mark >= 4) as marks_4_5,
        count(journal_comparison) as with_journal,
        count(*) filter (where journal_comparison = 'повысили') as raised,
        count(*) filter (where journal_comparison = 'понизили') as lowered,
        -- The journal sign per pupil: how far the ВПР mark is above the journal mark, not only whether.
        sum(mark - journal_mark) as journal_gap_sum,
        sum((mark - journal_mark) * (mark - journal_mark)) as journal_gap_squares,
        -- The same among the pupils whose journal mark is at or below the school's mean (weak_above_journal).
        count(journal_mark) filter (where journal_mark <= journal_mean) as with_journal_lower,
        sum(mark - journal_mark) filter (where journal_mark <= journal_mean) as journal_gap_lower_sum,
        sum((mark - journal_mark) * (mark - journal_mark))
            filter (where journal_mark <= journal_mean) as journal_gap_lower_squares,
        avg(z_score) as mean_z,
        -- For the spread of the school's pupils around its mean: the standard error of mean_z.
        sum(z_score * z_score) as z_squares,
        count(hard_rate - easy_rate) as with_tasks,
        sum(easy_rate) as easy_sum,
        sum(hard_rate) as hard_sum,
        sum(easy_rate * easy_rate) as easy_squares,
        sum(hard_rate * hard_rate) as hard_squares,
        sum(easy_rate * hard_rate) as easy_hard_products,
        'participant_rows' as marks_from,
        'participant_rows' as journal_from,
        'participant_rows' as scores_from
    from participants_with_school_journal
    group by year, login, region_code, work_code, subject_code, grade

),

report_school as (

    select
        report_counts.year, report_counts.login, report_counts.region_code, report_counts.work_code,
        report_counts.subject_code, report_counts.grade,
        {{ dbt.cast('report_counts.participants', dbt.type_bigint()) }} as participants,
        {{ dbt.cast('report_counts.mark_4 + report_counts.mark_5', dbt.type_bigint()) }} as marks_4_5,
        {{ dbt.cast('report_counts.with_journal', dbt.type_bigint()) }} as with_journal,
        {{ dbt.cast('report_counts.raised', dbt.type_bigint()) }} as raised,
        {{ dbt.cast('report_counts.lowered', dbt.type_bigint()) }} as lowered,
        {{ dbt.cast('null', dbt.type_bigint()) }} as journal_gap_sum,
        {{ dbt.cast('null', dbt.type_bigint()) }} as journal_gap_squares,
        {{ dbt.cast('null', dbt.type_bigint()) }} as with_journal_lower,
        {{ dbt.cast('null', dbt.type_bigint()) }} as journal_gap_lower_sum,
        {{ dbt.cast('null', dbt.type_bigint()) }} as journal_gap_lower_squares,
        {{ dbt.cast('null', type_double()) }} as mean_z,
        {{ dbt.cast('null', type_double()) }} as z_squares,
        {{ dbt.cast('0', dbt.type_bigint()) }} as with_tasks,
        {{ dbt.cast('null', type_double()) }} as easy_sum,
        {{ dbt.cast('null', type_double()) }} as hard_sum,
        {{ dbt.cast('null', type_double()) }} as easy_squares,
        {{ dbt.cast('null', type_double()) }} as hard_squares,
        {{ dbt.cast('null', type_double()) }} as easy_hard_products,
        report_counts.marks_from,
        report_counts.journal_from,
        report_counts.scores_from
    from report_counts

),

school as (

    select * from participant_school
    union all
    select * from report_school

),

final as (

    select
        *,
        -- Among the schools with a standardised mean only (participant rows): a report gives none.
        case when mean_z is not null then
            percent_rank() over (
                partition by year, work_code, region_code, mean_z is null order by {{ decimal_9("mean_z") }}
            )
        end as vpr_percentile,
        sum(participants) over region - participants as region_participants,
        sum(marks_4_5) over region - marks_4_5 as region_marks_4_5,
        sum(with_journal) over region - with_journal as region_with_journal,
        sum(raised) over region - raised as region_raised,
        sum(lowered) over region - lowered as region_lowered,
        sum(journal_gap_sum) over region - journal_gap_sum as region_journal_gap_sum,
        sum(journal_gap_squares) over region - journal_gap_squares as region_journal_gap_squares,
        sum(with_journal_lower) over region - with_journal_lower as region_with_journal_lower,
        sum(journal_gap_lower_sum) over region - journal_gap_lower_sum as region_journal_gap_lower_sum,
        sum(journal_gap_lower_squares) over region - journal_gap_lower_squares as region_journal_gap_lower_squares,
        sum(with_tasks) over region - with_tasks as region_with_tasks,
        sum(easy_sum) over region - easy_sum as region_easy_sum,
        sum(hard_sum) over region - hard_sum as region_hard_sum,
        sum(easy_squares) over region - easy_squares as region_easy_squares,
        sum(hard_squares) over region - hard_squares as region_hard_squares,
        sum(easy_hard_products) over region - easy_hard_products as region_easy_hard_products
    from school
    window region as (partition by year, work_code, region_code)

)

select * from final
