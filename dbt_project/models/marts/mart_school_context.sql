{#- School × year social context (социальный контекст ОО): ИСБШ with its components and weights, the
    percentile within region × year, the ШНСУ flag (bottom shnsu_bottom_share_pct % of the region's schools,
    25 % by default) and the resilient-school flag (резильентные школы, "beating the odds").

    Resilience: per region × year the school mean standardised ВПР result is regressed on ИСБШ by OLS
    (regr_slope / regr_intercept). The residual has a standard error from the number of results
    (pooled within-school sd / √n); it is significantly positive when residual − z·se > 0
    (z = resilient_z_critical, 1.96). A school is resilient in year Y when its ИСБШ is in the bottom
    resilient_isbsh_bottom_share_pct % (25 %) and its residual was significantly positive in at least
    resilient_min_years (2) of the resilient_window_years (3) years Y−2…Y. -#}
with

isbsh as (

    select * from {{ ref('int_school_isbsh') }}

),

standing as (

    select * from {{ ref('int_school_vpr_standing') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

passport as (

    select login, year, students_total from {{ ref('stg_social_passport') }}

),

rules as (

    select * from {{ ref('int_rules_by_year') }}

),

ranked as (

    select
        isbsh.*,
        row_number() over (partition by region_code, year order by {{ decimal_9("isbsh") }}, login) as rank_from_bottom,
        count(isbsh) over (partition by region_code, year) as schools_ranked,
        100.0 * percent_rank() over (partition by region_code, year order by {{ decimal_9("isbsh") }}) as isbsh_percentile
    from isbsh
    where isbsh.isbsh is not null

),

with_results as (

    select
        ranked.*,
        standing.vpr_results,
        standing.vpr_mean_z,
        standing.vpr_mean_z_se
    from ranked
    left join standing
        on ranked.login = standing.login
        and ranked.year = standing.year

),

regression as (

    select
        region_code,
        year,
        regr_slope(vpr_mean_z, isbsh) as regression_slope,
        regr_intercept(vpr_mean_z, isbsh) as regression_intercept,
        regr_count(vpr_mean_z, isbsh) as regression_schools
    from with_results
    group by region_code, year

),

residuals as (

    select
        with_results.*,
        regression.regression_slope,
        regression.regression_intercept,
        regression.regression_schools,
        regression.regression_intercept + regression.regression_slope * with_results.isbsh as vpr_mean_z_expected,
        with_results.vpr_mean_z
            - (regression.regression_intercept + regression.regression_slope * with_results.isbsh) as vpr_residual,
        rules.shnsu_bottom_share_pct,
        rules.resilient_isbsh_bottom_share_pct,
        rules.resilient_z_critical,
        rules.resilient_min_years,
        rules.resilient_window_years
    from with_results
    left join regression
        on with_results.region_code = regression.region_code
        and with_results.year = regression.year
    left join rules
        on with_results.year = rules.year

),

intervals as (

    select
        residuals.*,
        vpr_residual - resilient_z_critical * vpr_mean_z_se as vpr_residual_ci_low,
        vpr_residual + resilient_z_critical * vpr_mean_z_se as vpr_residual_ci_high,
        coalesce(vpr_residual - resilient_z_critical * vpr_mean_z_se > 0, false) as is_above_expected,
        100.0 * rank_from_bottom <= shnsu_bottom_share_pct * schools_ranked as is_shnsu,
        100.0 * rank_from_bottom <= resilient_isbsh_bottom_share_pct * schools_ranked as is_low_isbsh
    from residuals

),

windowed as (

    select
        current_year.login,
        current_year.year,
        {{ count_if('earlier.is_above_expected') }} as years_above_expected_in_window
    from intervals as current_year
    left join intervals as earlier
        on current_year.login = earlier.login
        and earlier.year between current_year.year - current_year.resilient_window_years + 1 and current_year.year
    group by current_year.login, current_year.year

),

final as (

    select
        intervals.login,
        schools.short_name as school_name,
        schools.municipality,
        intervals.region_code,
        intervals.year,
        schools.settlement_type,
        schools.school_type,
        passport.students_total,
        intervals.isbsh,
        intervals.isbsh_percentile,
        intervals.rank_from_bottom as isbsh_rank_from_bottom,
        intervals.schools_ranked,
        intervals.components_used as isbsh_components_used,
        intervals.isbsh_formula,
        intervals.shnsu_bottom_share_pct,
        intervals.is_shnsu,
        intervals.vpr_results,
        intervals.vpr_mean_z,
        intervals.regression_slope,
        intervals.regression_intercept,
        intervals.regression_schools,
        intervals.vpr_mean_z_expected,
        intervals.vpr_residual,
        intervals.vpr_mean_z_se as vpr_residual_se,
        intervals.vpr_residual_ci_low,
        intervals.vpr_residual_ci_high,
        intervals.is_above_expected,
        windowed.years_above_expected_in_window,
        intervals.resilient_isbsh_bottom_share_pct,
        intervals.is_low_isbsh,
        (intervals.is_low_isbsh and windowed.years_above_expected_in_window >= intervals.resilient_min_years) as is_resilient,
        '{{ var("rule_set") }}' as rule_set
    from intervals
    left join windowed
        on intervals.login = windowed.login
        and intervals.year = windowed.year
    left join schools
        on intervals.login = schools.login
    left join passport
        on intervals.login = passport.login
        and intervals.year = passport.year

)

select * from final
