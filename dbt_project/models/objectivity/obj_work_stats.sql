-- School × year × ВПР work: counts and sums behind every per-work sign, beside the same figures for the
-- rest of the region (the region without the school itself, so a school is never compared with itself).
with school as (
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
        stddev_samp(hard_rate - easy_rate) as gap_sd
    from {{ ref('obj_vpr_participants') }}
    group by year, login, region_code, work_code, subject_code, grade
)

select
    *,
    percent_rank() over (partition by year, work_code, region_code order by {{ decimal_9("mean_z") }}) as vpr_percentile,
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
