-- School × year × ВПР work: counts and sums behind every per-work sign, beside the same figures for the
-- rest of the region (the region without the school itself, so a school is never compared with itself).
-- A school with no participant rows for the work is counted from its ФИС ОКО reports
-- (int_vpr_school_work_counts): marks from «Статистика по отметкам», the journal comparison from «Сравнение
-- отметок с отметками по журналу», the window around the cuts from «Распределение первичных баллов»; what no
-- report gives stays NULL, and the sign that needs it is «не вычисляется» in mart_objectivity_flags.
-- `*_from` records the level each count came from.
with

participants as (

    select * from {{ ref('obj_vpr_participants') }}

),

report_counts as (

    select * from {{ ref('int_vpr_school_work_counts') }}
    where level_of_detail = 'reports'

),

score_counts as (

    select * from {{ ref('int_vpr_school_work_score_counts') }}
    where scores_from = 'score_distribution'

),

vpr_works as (

    select * from {{ ref('vpr_works') }}

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
        count(*) filter (where at_cut) as at_cut,
        count(*) filter (where below_cut) as below_cut,
        avg(z_score) as mean_z,
        count(hard_rate - easy_rate) as with_tasks,
        sum(easy_rate) as easy_sum,
        sum(hard_rate) as hard_sum,
        sum(easy_rate * easy_rate) as easy_squares,
        sum(hard_rate * hard_rate) as hard_squares,
        sum(easy_rate * hard_rate) as easy_hard_products,
        'participant_rows' as marks_from,
        'participant_rows' as journal_from,
        'participant_rows' as scores_from
    from participants
    group by year, login, region_code, work_code, subject_code, grade

),

-- The window around the «3» and «4» cuts as obj_vpr_participants defines it, on a score distribution.
report_cuts as (

    select
        score_counts.year, score_counts.login, score_counts.work_code,
        sum(score_counts.pupils) filter (
            where score_counts.score between vpr_works.cut_3 and vpr_works.cut_3 + 1
                or score_counts.score between vpr_works.cut_4 and vpr_works.cut_4 + 1
        ) as at_cut,
        sum(score_counts.pupils) filter (
            where not (score_counts.score between vpr_works.cut_3 and vpr_works.cut_3 + 1
                       or score_counts.score between vpr_works.cut_4 and vpr_works.cut_4 + 1)
                and (score_counts.score between vpr_works.cut_3 - 2 and vpr_works.cut_3 - 1
                     or score_counts.score between vpr_works.cut_4 - 2 and vpr_works.cut_4 - 1)
        ) as below_cut
    from score_counts
    inner join vpr_works
        on score_counts.work_code = vpr_works.work_code
        and score_counts.year between vpr_works.year_from and vpr_works.year_to
    group by score_counts.year, score_counts.login, score_counts.work_code

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
        {{ dbt.cast('coalesce(report_cuts.at_cut, 0)', dbt.type_bigint()) }}
            * case when report_counts.scores_from is not null then 1 end as at_cut,
        {{ dbt.cast('coalesce(report_cuts.below_cut, 0)', dbt.type_bigint()) }}
            * case when report_counts.scores_from is not null then 1 end as below_cut,
        {{ dbt.cast('null', type_double()) }} as mean_z,
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
    left join report_cuts
        on report_counts.year = report_cuts.year and report_counts.login = report_cuts.login
        and report_counts.work_code = report_cuts.work_code

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
        sum(at_cut) over region - at_cut as region_at_cut,
        sum(below_cut) over region - below_cut as region_below_cut,
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
