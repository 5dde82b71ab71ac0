-- School × year × ВПР work: counts and sums behind every per-work sign, beside the same figures for the
-- rest of the region (the region without the school itself, so a school is never compared with itself).
-- A school with no participant rows for the work is counted from its ФИС ОКО reports
-- (int_vpr_school_work_counts): marks from «Статистика по отметкам», the journal comparison from «Сравнение
-- отметок с отметками по журналу», the window around the cuts from «Распределение первичных баллов»; what no
-- report gives stays NULL, and the sign that needs it is «не вычисляется» in mart_objectivity_flags.
-- `*_from` records the level each count came from.
with participant_school as (
    select
        year, login, region_code, work_code, subject_code, grade,
        count(*) as participants,
        count(*) filter (where mark >= 4) as marks_4_5,
        count(journal_comparison) as with_journal,
        count(*) filter (where journal_comparison = 'повысили') as raised,
        count(*) filter (where journal_comparison = 'понизили') as lowered,
        count(*) filter (where at_cut) as at_cut,
        count(*) filter (where below_cut) as below_cut,
        avg(z_score) as mean_z,
        count(hard_rate - easy_rate) as with_tasks,
        sum(easy_rate) as easy_sum,
        sum(hard_rate) as hard_sum,
        sum(hard_rate - easy_rate) as gap_sum,
        stddev_samp(hard_rate - easy_rate) as gap_sd,
        'participant_rows' as marks_from,
        'participant_rows' as journal_from,
        'participant_rows' as scores_from
    from {{ ref('obj_vpr_participants') }}
    group by year, login, region_code, work_code, subject_code, grade
),

report_counts as (
    select * from {{ ref('int_vpr_school_work_counts') }}
    where level_of_detail = 'reports'
),

-- The window around the «3» and «4» cuts as obj_vpr_participants defines it, on a score distribution.
report_cuts as (
    select
        s.year, s.login, s.work_code,
        sum(s.pupils) filter (where s.score between w.cut_3 and w.cut_3 + 1
                                    or s.score between w.cut_4 and w.cut_4 + 1) as at_cut,
        sum(s.pupils) filter (where not (s.score between w.cut_3 and w.cut_3 + 1
                                         or s.score between w.cut_4 and w.cut_4 + 1)
                                    and (s.score between w.cut_3 - 2 and w.cut_3 - 1
                                         or s.score between w.cut_4 - 2 and w.cut_4 - 1)) as below_cut
    from {{ ref('int_vpr_school_work_score_counts') }} as s
    join {{ ref('vpr_works') }} as w
        on w.work_code = s.work_code and s.year between w.year_from and w.year_to
    where s.scores_from = 'score_distribution'
    group by s.year, s.login, s.work_code
),

report_school as (
    select
        r.year, r.login, r.region_code, r.work_code, r.subject_code, r.grade,
        {{ dbt.cast('r.participants', dbt.type_bigint()) }} as participants,
        {{ dbt.cast('r.mark_4 + r.mark_5', dbt.type_bigint()) }} as marks_4_5,
        {{ dbt.cast('r.with_journal', dbt.type_bigint()) }} as with_journal,
        {{ dbt.cast('r.raised', dbt.type_bigint()) }} as raised,
        {{ dbt.cast('r.lowered', dbt.type_bigint()) }} as lowered,
        {{ dbt.cast('coalesce(c.at_cut, 0)', dbt.type_bigint()) }} * case when r.scores_from is not null then 1 end as at_cut,
        {{ dbt.cast('coalesce(c.below_cut, 0)', dbt.type_bigint()) }} * case when r.scores_from is not null then 1 end as below_cut,
        {{ dbt.cast('null', type_double()) }} as mean_z,
        {{ dbt.cast('0', dbt.type_bigint()) }} as with_tasks,
        {{ dbt.cast('null', type_double()) }} as easy_sum,
        {{ dbt.cast('null', type_double()) }} as hard_sum,
        {{ dbt.cast('null', type_double()) }} as gap_sum,
        {{ dbt.cast('null', type_double()) }} as gap_sd,
        r.marks_from,
        r.journal_from,
        r.scores_from
    from report_counts as r
    left join report_cuts as c
        on c.year = r.year and c.login = r.login and c.work_code = r.work_code
),

school as (
    select * from participant_school
    union all
    select * from report_school
)

select
    *,
    -- Among the schools with a standardised mean only (participant rows): a report gives none.
    case when mean_z is not null then
        percent_rank() over (partition by year, work_code, region_code, mean_z is null order by {{ decimal_9("mean_z") }})
    end as vpr_percentile,
    sum(participants) over region - participants as region_participants,
    sum(marks_4_5) over region - marks_4_5 as region_marks_4_5,
    sum(with_journal) over region - with_journal as region_with_journal,
    sum(raised) over region - raised as region_raised,
    sum(lowered) over region - lowered as region_lowered,
    sum(at_cut) over region - at_cut as region_at_cut,
    sum(below_cut) over region - below_cut as region_below_cut,
    sum(with_tasks) over region - with_tasks as region_with_tasks,
    sum(easy_sum) over region - easy_sum as region_easy_sum,
    sum(hard_sum) over region - hard_sum as region_hard_sum,
    sum(gap_sum) over region - gap_sum as region_gap_sum
from school
window region as (partition by year, work_code, region_code)
