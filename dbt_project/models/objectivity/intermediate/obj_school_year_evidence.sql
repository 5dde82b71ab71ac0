-- The flagging rule: one hypothesis per school × year × sign that can flag on its own (role standalone),
-- its evidence pooled over the school's ВПР works, and the false discovery rate controlled over the
-- region's schools and signs of the year (Benjamini & Hochberg 1995). Parameters: seed objectivity_pooling.
--
-- Pooling: small schools rarely give one significant work, but an anomaly that touches several works, or
-- persists, leaves weak evidence in each. Four statistics can be pooled (`combination`, '+'-separated):
--   stouffer            the works of the year, Stouffer's weighted sum (weights 1 / total_se): the most
--                       powerful for a shift common to the works;
--   max                 the largest z of the year's works, Šidák-corrected for their number: one strongly
--                       affected work;
--   persistent_work     per work, a Stouffer sum over the years around (`persistence_years` either side),
--                       then the largest of them, Šidák-corrected: one work manipulated year after year;
--   persistent_school   a Stouffer sum over all works of the years around: a school-wide pattern.
-- The school-year's p-value is the smallest of the chosen ones, Bonferroni-corrected for their number.
-- jump_then_fall already spans three years and is pooled within its year only.
--
-- A school's works are not independent (its journal practice, its ОГЭ standing and its intake are shared
-- by all of them, and by its years), so a Stouffer sum is divided by its spread among the region's
-- schools: with correlation ρ between a school's works, Var = 1 + ρ·((Σw)² − Σw²)/Σw², and ρ is estimated
-- robustly (median absolute deviation) from the region's schools, per year, sign and scope.
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

    select tests.*
    from tests
    inner join thresholds
        on tests.sign = thresholds.sign and tests.year between thresholds.year_from and thresholds.year_to
    where thresholds.role = 'standalone'

),

school_years as (

    select distinct standalone_tests.year, standalone_tests.login, standalone_tests.region_code,
        standalone_tests.sign, pooling.persistence_years
    from standalone_tests
    inner join pooling
        on standalone_tests.year between pooling.year_from and pooling.year_to

),

-- Every statistic is a Stouffer sum over a set of tests (`unit`): the year's works, one work over the years
-- around, or all works over the years around.
scoped_tests as (

    select school_years.year as evidence_year, 'year' as scope, 'ALL' as unit, standalone_tests.*
    from school_years
    inner join standalone_tests
        on school_years.login = standalone_tests.login and school_years.sign = standalone_tests.sign
        and school_years.year = standalone_tests.year
    union all
    select school_years.year, 'work_years', standalone_tests.work_code, standalone_tests.*
    from school_years
    inner join standalone_tests
        on school_years.login = standalone_tests.login and school_years.sign = standalone_tests.sign
        and standalone_tests.year between school_years.year - school_years.persistence_years
            and school_years.year + school_years.persistence_years
    where school_years.persistence_years > 0 and school_years.sign <> 'jump_then_fall'
    union all
    select school_years.year, 'school_years', 'ALL', standalone_tests.*
    from school_years
    inner join standalone_tests
        on school_years.login = standalone_tests.login and school_years.sign = standalone_tests.sign
        and standalone_tests.year between school_years.year - school_years.persistence_years
            and school_years.year + school_years.persistence_years
    where school_years.persistence_years > 0 and school_years.sign <> 'jump_then_fall'

),

pooled as (

    select
        evidence_year as year, login, region_code, sign, scope, unit,
        count(*) as works,
        count(distinct year) as years,
        sum(n) as participants,
        sum(z_score / total_se) / sqrt(sum(1.0 / (total_se * total_se))) as stouffer_z,
        (sum(1.0 / total_se) * sum(1.0 / total_se) - sum(1.0 / (total_se * total_se)))
            / sum(1.0 / (total_se * total_se)) as shared_pairs,
        max(z_score) as max_z
    from scoped_tests
    group by evidence_year, login, region_code, sign, scope, unit

),

spreads as (

    select
        year, region_code, sign, scope,
        {{ median_of('stouffer_z') }} as centre,
        {{ median_of('shared_pairs') }} as median_shared_pairs
    from pooled
    where works > 1
    group by year, region_code, sign, scope

),

deviations as (

    select
        pooled.year, pooled.region_code, pooled.sign, pooled.scope,
        {{ median_of('abs(pooled.stouffer_z - spreads.centre)') }} as median_absolute_deviation
    from pooled
    inner join spreads
        on pooled.year = spreads.year and pooled.region_code = spreads.region_code and pooled.sign = spreads.sign
        and pooled.scope = spreads.scope
    where pooled.works > 1
    group by pooled.year, pooled.region_code, pooled.sign, pooled.scope

),

correlations as (

    select
        spreads.year, spreads.region_code, spreads.sign, spreads.scope,
        case when spreads.median_shared_pairs > 0 then greatest(
            0, ((1.4826 * deviations.median_absolute_deviation) ^ 2 - 1) / spreads.median_shared_pairs
        ) else 0 end as within_school_correlation
    from spreads
    inner join deviations
        on spreads.year = deviations.year and spreads.region_code = deviations.region_code
        and spreads.sign = deviations.sign and spreads.scope = deviations.scope

),

calibrated as (

    select
        pooled.*,
        pooled.stouffer_z / sqrt(1 + coalesce(correlations.within_school_correlation, 0) * pooled.shared_pairs) as pooled_z
    from pooled
    left join correlations
        on pooled.year = correlations.year and pooled.region_code = correlations.region_code
        and pooled.sign = correlations.sign and pooled.scope = correlations.scope

),

tails as (

    select
        calibrated.*,
        {{ normal_upper_tail('pooled_z') }} as stouffer_p,
        {{ normal_upper_tail('max_z') }} as max_p
    from calibrated

),

-- One row per school × year × sign with the p-value of each statistic. Šidák: the chance that the largest
-- of k independent z-scores is this large, 1 − (1 − p)^k, or k·p where that loses its digits.
statistics as (

    select
        year, login, region_code, sign,
        max(works) filter (where scope = 'year') as works,
        max(participants) filter (where scope = 'year') as participants,
        max(pooled_z) filter (where scope = 'year') as pooled_z,
        max(max_z) filter (where scope = 'year') as max_z,
        max(years) filter (where scope = 'school_years') as years_pooled,
        max(pooled_z) filter (where scope = 'school_years') as years_pooled_z,
        max(stouffer_p) filter (where scope = 'year') as stouffer_p,
        max(case when max_p < 1e-9 then works * max_p else 1 - power(1 - max_p, works) end)
            filter (where scope = 'year') as max_p,
        min(stouffer_p) filter (where scope = 'work_years') as best_work_p,
        count(*) filter (where scope = 'work_years') as persistent_works,
        max(stouffer_p) filter (where scope = 'school_years') as school_years_p
    from tails
    group by year, login, region_code, sign

),

chosen as (

    select
        statistics.*,
        case when statistics.best_work_p < 1e-9 then statistics.persistent_works * statistics.best_work_p
            else 1 - power(1 - statistics.best_work_p, statistics.persistent_works) end as persistent_work_p,
        '+' || pooling.combination || '+' as combination
    from statistics
    inner join pooling
        on statistics.year between pooling.year_from and pooling.year_to

),

candidates as (

    select year, login, sign, stouffer_p as p from chosen where combination like '%+stouffer+%'
    union all
    select year, login, sign, max_p from chosen where combination like '%+max+%'
    union all
    select year, login, sign, persistent_work_p from chosen where combination like '%+persistent_work+%'
    union all
    select year, login, sign, school_years_p from chosen where combination like '%+persistent_school+%'

),

bonferroni as (

    select year, login, sign, least(1.0, min(p) * count(*)) as p_value
    from candidates
    where p is not null
    group by year, login, sign

),

p_values as (

    select
        chosen.year, chosen.login, chosen.region_code, chosen.sign, chosen.works, chosen.participants,
        chosen.pooled_z, chosen.max_z, chosen.years_pooled, chosen.years_pooled_z,
        bonferroni.p_value
    from chosen
    inner join bonferroni
        on chosen.year = bonferroni.year and chosen.login = bonferroni.login and chosen.sign = bonferroni.sign

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
        adjusted.year, adjusted.login, adjusted.region_code, adjusted.sign, adjusted.works, adjusted.participants,
        adjusted.pooled_z, adjusted.max_z, adjusted.years_pooled, adjusted.years_pooled_z, adjusted.p_value,
        adjusted.q_value, adjusted.hypotheses, pooling.fdr_level,
        adjusted.q_value <= pooling.fdr_level as is_discovery
    from adjusted
    inner join pooling
        on adjusted.year between pooling.year_from and pooling.year_to

)

select * from final
