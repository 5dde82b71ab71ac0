{{ config(tags=['value'], severity='warn') }}
-- Shares the schools fill in beside their counts must agree with count / students_total (seed 001
-- mixes fractions and percents and its shares imply inconsistent denominators: 42 / 21 % ⇒ 200 ≠ 259).
-- A share written as a fraction (0,28) is read as 28 %. Tolerance: 1 percentage point.
with

passport as (

    select * from {{ ref('stg_social_passport') }}

),

shares as (

    select login, year, 'single_parent_families' as count_column, single_parent_families as student_count,
           single_parent_families_pct as share_as_filled, students_total
    from passport
    union all
    select login, year, 'low_income_families', low_income_families, low_income_families_pct, students_total
    from passport

),

compared as (

    select
        shares.*,
        case when share_as_filled <= 1 and student_count > 0 and 100.0 * student_count / students_total > 1
             then 100.0 * share_as_filled else share_as_filled end as share_pct_as_filled,
        100.0 * student_count / nullif(students_total, 0) as share_pct_from_counts
    from shares
    where share_as_filled is not null and student_count is not null

)

select
    *,
    case when share_pct_as_filled > 0 then round(100.0 * student_count / share_pct_as_filled) end as implied_students_total
from compared
where abs(share_pct_as_filled - share_pct_from_counts) > 1
