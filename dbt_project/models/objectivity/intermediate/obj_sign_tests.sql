-- Every sign statistic of obj_sign_statistics judged against the region's own schools: how far the
-- school's effect is from what is usual among the region's schools of the same year and work (and of the
-- same level, where the sign's expected value depends on it), in units of its standard error plus the
-- spread between honest schools. One row per school × year × work × sign with the z-score, its one-sided
-- p-value, the interval and whether the test alone is significant; mart_objectivity_flags pools the
-- school's works (obj_school_year_evidence) and decides the flags.
--
-- Why an empirical null: schools differ from the region for reasons that are not manipulation (cohorts,
-- intake, a different teacher), so a test against sampling error alone flags honest schools (the old ОГЭ
-- sign caused most false flags that way). The usual difference and the between-school spread (τ²) are
-- estimated robustly (median, median absolute deviation) on the schools with at least `fit_min_n`
-- participants, so a few manipulated schools do not move them. Methods: docs/objectivity.md.
with

statistics as (

    select * from {{ ref('obj_sign_statistics') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

pooling as (

    select * from {{ ref('objectivity_pooling') }}

),

configured as (

    select
        statistics.*,
        thresholds.z as critical_z,
        thresholds.min_n,
        pooling.min_fit_schools,
        statistics.n >= pooling.fit_min_n as in_fit
    from statistics
    inner join thresholds
        on statistics.sign = thresholds.sign
        and statistics.year between thresholds.year_from and thresholds.year_to
    inner join pooling
        on statistics.year between pooling.year_from and pooling.year_to
    where statistics.sampling_se > 0

),

-- The schools a sign's usual value is estimated on: per region × year × work × sign and level of detail
-- (a share from a report and a mean from participant rows are different statistics), or, where fewer
-- than `min_fit_schools` schools have the work, over all works of the sign that year and schools of every
-- size (`fit_work` '*'): a municipality's dozen schools would otherwise give a slope and a spread from
-- noise, or none at all and an honest school's difference from its neighbours taken for evidence.
fit_rows as (

    select year, region_code, work_code as fit_work, sign, computed_from, effect, covariate, sampling_se, login
    from configured
    where in_fit
    union all
    select year, region_code, '*', sign, computed_from, effect, covariate, sampling_se, login
    from configured

),

slopes as (

    select
        year, region_code, fit_work, sign, computed_from,
        count(distinct login) as fitted_schools,
        coalesce(regr_slope(effect, covariate), 0) as slope,
        {{ median_of('covariate') }} as covariate_median
    from fit_rows
    group by year, region_code, fit_work, sign, computed_from

),

-- The fit a test uses: its work's if enough schools have it, else the sign's over all works, else none.
chosen_fits as (

    select
        configured.year, configured.login, configured.work_code, configured.sign,
        case
            when by_work.fitted_schools >= configured.min_fit_schools then configured.work_code
            when by_sign.fitted_schools >= configured.min_fit_schools then '*'
        end as fit_work
    from configured
    left join slopes as by_work
        on configured.year = by_work.year and configured.region_code = by_work.region_code
        and configured.work_code = by_work.fit_work and configured.sign = by_work.sign
        and configured.computed_from = by_work.computed_from
    left join slopes as by_sign
        on configured.year = by_sign.year and configured.region_code = by_sign.region_code
        and by_sign.fit_work = '*' and configured.sign = by_sign.sign
        and configured.computed_from = by_sign.computed_from

),

-- A test without a fit keeps its effect as it is (no level part).
levelled as (

    select
        configured.*,
        chosen_fits.fit_work,
        coalesce(slopes.slope * (configured.covariate - slopes.covariate_median), 0) as level_part,
        configured.effect - coalesce(slopes.slope * (configured.covariate - slopes.covariate_median), 0) as levelled_effect
    from configured
    inner join chosen_fits
        on configured.year = chosen_fits.year and configured.login = chosen_fits.login
        and configured.work_code = chosen_fits.work_code and configured.sign = chosen_fits.sign
    left join slopes
        on configured.year = slopes.year and configured.region_code = slopes.region_code
        and chosen_fits.fit_work = slopes.fit_work and configured.sign = slopes.sign
        and configured.computed_from = slopes.computed_from

),

levelled_fit_rows as (

    select year, region_code, work_code as fit_work, sign, computed_from, levelled_effect, sampling_se
    from levelled
    where in_fit and fit_work = work_code
    union all
    select year, region_code, '*', sign, computed_from, levelled_effect, sampling_se
    from levelled
    where fit_work = '*'

),

nulls as (

    select
        year, region_code, fit_work, sign, computed_from, centre,
        greatest(0, spread ^ 2 - median_sampling_variance) as between_school_variance
    from (
        {{ robust_spread(
            'levelled_fit_rows', 'levelled_effect', ['year', 'region_code', 'fit_work', 'sign', 'computed_from'],
            {'median_sampling_variance': 'sampling_se * sampling_se'}
        ) }}
    ) as spreads

),

-- Without enough schools to fit on, the school is compared with the region as it is.
scored as (

    select
        levelled.*,
        coalesce(nulls.centre, 0) + levelled.level_part as expected_effect,
        sqrt(levelled.sampling_se ^ 2 + coalesce(nulls.between_school_variance, 0)) as total_se,
        (levelled.levelled_effect - coalesce(nulls.centre, 0))
            / sqrt(levelled.sampling_se ^ 2 + coalesce(nulls.between_school_variance, 0)) as z_score
    from levelled
    left join nulls
        on levelled.year = nulls.year and levelled.region_code = nulls.region_code
        and levelled.fit_work = nulls.fit_work and levelled.sign = nulls.sign
        and levelled.computed_from = nulls.computed_from

),

final as (

    select
        year,
        login,
        region_code,
        work_code,
        sign,
        n,
        estimate,
        estimate - critical_z * total_se as ci_low,
        estimate + critical_z * total_se as ci_high,
        reference,
        -- What the estimate would be for a school like this one without manipulation.
        reference + expected_effect as threshold,
        total_se,
        z_score,
        {{ normal_upper_tail('z_score') }} as p_value,
        n >= min_n and shaped and z_score > critical_z as triggered,
        measure || ': ' || case when is_share
            then {{ format_percent("100 * (estimate)") }} || ' из ' || n || ', ожидается ' || {{ format_percent("100 * (reference + expected_effect)") }}
                || ' (по региону ' || {{ format_percent("100 * (reference)") }} || ')'
            else {{ format_decimal_ru("estimate") }} || ' (' || n || ' уч.), ожидается ' || {{ format_decimal_ru("reference + expected_effect") }}
        end || '; отклонение z = ' || {{ format_decimal_ru("z_score") }} || '.' as detail,
        computed_from
    from scored

)

select * from final
