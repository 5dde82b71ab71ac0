-- The flagging rule: one hypothesis per school × year × sign that can flag on its own (role standalone),
-- its evidence pooled over the school's ВПР works, and the false discovery rate controlled over the
-- region's schools and signs of the year (Benjamini & Hochberg 1995). Parameters: seed objectivity_pooling.
--
-- Pooling: small schools rarely give one significant work, but an anomaly that touches some of a school's
-- works, or persists, leaves weak evidence in each. Two kinds of statistic are computed:
--
-- `<set>_all`: Stouffer's weighted sum of the school's z-scores (weights 1 / total_se), the most powerful
-- for a shift common to all its works. A school's tests are not independent (its journal practice, its
-- ОГЭ standing and its intake are shared by its works and years), so the sum spreads more than N(0, 1):
-- with correlation ρ between tests, Var(Σwᵢzᵢ / √Σwᵢ²) = 1 + ρ·((Σwᵢ)² − Σwᵢ²)/Σwᵢ²; ρ is estimated from
-- the robust spread of the sums among the region's schools (macro within_school_correlation) and each sum
-- is divided by its standard deviation.
--
-- `<set>_<s>` (s = 1, 2, 3): the s works that stand out most from the school's own other works. What the
-- tests share (ρ) is the school's trait, not evidence against one work, so each test is first set
-- against the mean of the school's other tests of the sign (all works and years): the contrast
-- (z − mean of the others) / √(1 + 1/(k − 1)), divided by its spread for an honest school (see
-- `contrasts`), is N(0, 1) whatever the school's trait. The statistic is the sum of the s largest contrasts over √s, with the union bound over the
-- C(k, s) subsets of k works.
--
-- Sets: `year`, the school's works in the year; `persistent`, per work a sum over the years within
-- `persistence_years` either side (a work manipulated year after year; not for jump_then_fall, which
-- already spans three years). `combination` lists the statistics used; the school-year's p-value is the
-- smallest, Bonferroni-corrected for the number computed.
with

tests as (

    select * from {{ ref('obj_sign_tests') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

pooling as (

    select * from {{ ref('objectivity_pooling') }}

),

standalone_tests as (

    select tests.*, pooling.persistence_years
    from tests
    inner join thresholds
        on tests.sign = thresholds.sign and tests.year between thresholds.year_from and thresholds.year_to
    inner join pooling
        on tests.year between pooling.year_from and pooling.year_to
    where thresholds.role = 'standalone'

),

-- The school's tests of a sign over all its works and years: the baseline its works are contrasted with.
school_sums as (

    select
        login, region_code, sign,
        count(*) as tests,
        sum(z_score) as z_sum,
        sum(z_score / total_se) / sqrt(sum(1.0 / (total_se * total_se))) as stouffer_z,
        (sum(1.0 / total_se) * sum(1.0 / total_se) - sum(1.0 / (total_se * total_se)))
            / sum(1.0 / (total_se * total_se)) as shared_pairs
    from standalone_tests
    group by login, region_code, sign

),

school_correlations as (

    {{ within_school_correlation('school_sums', ['region_code', 'sign']) }}

),

-- Each test against the mean of the school's other tests of the sign, scaled by √(1 + 1/(k − 1)): for an
-- honest school it varies as (1 − ρ) whatever the school's trait. It is divided by the larger of
-- √(1 − ρ), ρ from the school totals, and its robust spread among the region's tests: either alone can
-- be too small — ρ from totals is overestimated when manipulated schools are a large share of a small
-- region (a municipality's sample), the median absolute deviation understates the heavier tails of a
-- region with many small schools.
raw_contrasts as (

    select
        standalone_tests.*,
        (standalone_tests.z_score - (school_sums.z_sum - standalone_tests.z_score) / (school_sums.tests - 1))
            / sqrt(1 + 1.0 / (school_sums.tests - 1)) as raw_contrast
    from standalone_tests
    inner join school_sums
        on standalone_tests.login = school_sums.login and standalone_tests.sign = school_sums.sign
    where school_sums.tests > 1

),

contrast_spreads as (

    {{ robust_spread('raw_contrasts', 'raw_contrast', ['region_code', 'sign']) }}

),

contrasts as (

    select
        raw_contrasts.*,
        raw_contrasts.raw_contrast / nullif(greatest(
            contrast_spreads.spread,
            sqrt(1 - least(coalesce(school_correlations.within_school_correlation, 0), 0.95))
        ), 0) as contrast
    from raw_contrasts
    inner join contrast_spreads
        on raw_contrasts.region_code = contrast_spreads.region_code and raw_contrasts.sign = contrast_spreads.sign
    left join school_correlations
        on raw_contrasts.region_code = school_correlations.region_code and raw_contrasts.sign = school_correlations.sign

),

-- Per work, its z-scores over the years around each year the school has that sign for.
work_years as (

    select
        school_year.year, school_year.login, school_year.region_code, school_year.sign, around.work_code,
        count(*) as years,
        sum(around.contrast) / sqrt(count(around.contrast)) as contrast_sum,
        sum(around.z_score / around.total_se) / sqrt(sum(1.0 / (around.total_se * around.total_se))) as stouffer_z,
        (sum(1.0 / around.total_se) * sum(1.0 / around.total_se) - sum(1.0 / (around.total_se * around.total_se)))
            / sum(1.0 / (around.total_se * around.total_se)) as shared_pairs
    from (select distinct year, login, region_code, sign, persistence_years from standalone_tests) as school_year
    inner join contrasts as around
        on school_year.login = around.login and school_year.sign = around.sign
        and around.year between school_year.year - school_year.persistence_years
            and school_year.year + school_year.persistence_years
    where school_year.persistence_years > 0 and school_year.sign <> 'jump_then_fall'
    group by school_year.year, school_year.login, school_year.region_code, school_year.sign, around.work_code

),

-- Years pooled per work share the school and the work: ρ between a work's years, from the region.
year_correlations as (

    {{ within_school_correlation('work_years', ['year', 'region_code', 'sign']) }}

),

persistent_units as (

    select
        work_years.year, work_years.login, work_years.region_code, work_years.sign, 'persistent' as unit_set,
        work_years.work_code,
        work_years.stouffer_z / sqrt(1 + coalesce(year_correlations.within_school_correlation, 0) * work_years.shared_pairs) as z_score,
        work_years.contrast_sum as contrast,
        -- The sum of a work's years has standard deviation 1 after the division: equal weights across works.
        {{ dbt.cast('1', type_double()) }} as total_se
    from work_years
    left join year_correlations
        on work_years.year = year_correlations.year and work_years.region_code = year_correlations.region_code
        and work_years.sign = year_correlations.sign

),

units as (

    select standalone_tests.year, standalone_tests.login, standalone_tests.region_code, standalone_tests.sign,
        'year' as unit_set, standalone_tests.work_code, standalone_tests.z_score, contrasts.contrast,
        standalone_tests.total_se
    from standalone_tests
    left join contrasts
        on standalone_tests.year = contrasts.year and standalone_tests.login = contrasts.login
        and standalone_tests.work_code = contrasts.work_code and standalone_tests.sign = contrasts.sign
    union all
    select year, login, region_code, sign, unit_set, work_code, z_score, contrast, total_se
    from persistent_units

),

sums as (

    select
        year, login, region_code, sign, unit_set,
        count(*) as units,
        sum(z_score / total_se) / sqrt(sum(1.0 / (total_se * total_se))) as stouffer_z,
        (sum(1.0 / total_se) * sum(1.0 / total_se) - sum(1.0 / (total_se * total_se)))
            / sum(1.0 / (total_se * total_se)) as shared_pairs
    from units
    group by year, login, region_code, sign, unit_set

),

unit_correlations as (

    {{ within_school_correlation('sums', ['year', 'region_code', 'sign', 'unit_set']) }}

),

ranked_units as (

    select
        units.*,
        row_number() over (
            partition by year, login, sign, unit_set order by contrast desc, work_code asc
        ) as unit_rank
    from units
    where contrast is not null

),

-- The one, two and three works that stand out most, and the number of subsets of that size.
top_units as (

    select
        year, login, sign, unit_set, count(*) as units,
        max(contrast) filter (where unit_rank = 1) as top_1,
        sum(contrast) filter (where unit_rank <= 2) / sqrt(2) as top_2,
        sum(contrast) filter (where unit_rank <= 3) / sqrt(3) as top_3
    from ranked_units
    group by year, login, sign, unit_set

),

candidates as (

    select year, login, sign, unit_set || '_1' as statistic, top_1 as z, units as subsets
    from top_units
    union all
    select year, login, sign, unit_set || '_2', top_2, units * (units - 1) / 2
    from top_units where units > 2
    union all
    select year, login, sign, unit_set || '_3', top_3, units * (units - 1) * (units - 2) / 6
    from top_units where units > 3
    union all
    select
        sums.year, sums.login, sums.sign, sums.unit_set || '_all',
        sums.stouffer_z / sqrt(1 + coalesce(unit_correlations.within_school_correlation, 0) * sums.shared_pairs), 1
    from sums
    left join unit_correlations
        on sums.year = unit_correlations.year and sums.region_code = unit_correlations.region_code
        and sums.sign = unit_correlations.sign and sums.unit_set = unit_correlations.unit_set

),

chosen as (

    select
        candidates.year, candidates.login, candidates.sign, candidates.statistic, candidates.z,
        least(1.0, candidates.subsets * {{ normal_upper_tail('candidates.z') }}) as p
    from candidates
    inner join pooling
        on candidates.year between pooling.year_from and pooling.year_to
    where '+' || pooling.combination || '+' like '%+' || candidates.statistic || '+%'

),

best as (

    select
        year, login, sign,
        count(*) as statistics,
        least(1.0, min(p) * count(*)) as p_value
    from chosen
    group by year, login, sign

),

reported as (

    select
        year, login, sign,
        max(z) filter (where statistic = 'year_all') as pooled_z,
        max(z) filter (where statistic = 'persistent_all') as persistent_z
    from candidates
    group by year, login, sign

),

p_values as (

    select
        sums.year, sums.login, sums.region_code, sums.sign, sums.units as works, reported.pooled_z,
        reported.persistent_z, best.statistics, best.p_value
    from sums
    inner join best
        on sums.year = best.year and sums.login = best.login and sums.sign = best.sign
    inner join reported
        on sums.year = reported.year and sums.login = reported.login and sums.sign = reported.sign
    where sums.unit_set = 'year'

),

ranked as (

    select
        p_values.*,
        row_number() over (partition by year, region_code order by p_value, login, sign) as p_rank,
        count(*) over (partition by year, region_code) as hypotheses
    from p_values

),

-- The Benjamini–Hochberg adjusted p-value (q-value): the smallest p·m / rank at this rank or above.
adjusted as (

    select
        ranked.*,
        least(1.0, min(p_value * hypotheses / p_rank) over (
            partition by year, region_code order by p_rank desc rows between unbounded preceding and current row
        )) as q_value
    from ranked

),

final as (

    select
        adjusted.year, adjusted.login, adjusted.region_code, adjusted.sign, adjusted.works, adjusted.pooled_z,
        adjusted.persistent_z, adjusted.statistics, adjusted.p_value, adjusted.q_value, adjusted.hypotheses,
        pooling.fdr_level,
        adjusted.q_value <= pooling.fdr_level as is_discovery
    from adjusted
    inner join pooling
        on adjusted.year between pooling.year_from and pooling.year_to

)

select * from final
