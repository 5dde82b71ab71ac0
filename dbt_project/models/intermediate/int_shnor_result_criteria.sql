{#- The ШНОР criteria that read the level of results rather than counting low works (Leningrad Oblast,
    seed 003), one row per school and list year Y such that the school has results in Y−1. Only the
    criteria the selected rule set lists in shnor_criteria are enabled; the others are false.
      bottom_results        — the school's mean standardised result (z within region × year × work,
                              participant-weighted) over Y−lookback … Y−1 is in the bottom `threshold` %
                              of the region's schools;
      low_knowledge_quality — knowledge quality (share of «4» and «5») ≤ `threshold` % in at least
                              `min_count` works of Y−lookback … Y−1 (works with marks only);
      below_region_average  — the school's mean on a 100-point scale (ЕГЭ test score, otherwise percent
                              of the maximum primary score), compared with the region work by work and
                              weighted by participants, is more than `threshold` points below the region.
    Works: those the rule set considers (shnor_works), independent results only. -#}
with

results as (

    select * from {{ ref('int_school_work_results') }}

),

areas as (

    select * from {{ ref('int_area_work_results') }}
    where area_level = 'region'

),

criteria as (

    select criterion, threshold, min_count, lookback_years, year_from, year_to
    from {{ rule_rows('shnor_criteria', ['criterion']) }} as selected_rows
    where criterion in ('bottom_results', 'low_knowledge_quality', 'below_region_average')

),

considered_works as (

    select work_label, year_from, year_to
    from {{ rule_rows('shnor_works') }} as selected_rows

),

counted_results as (

    select results.*
    from results
    inner join considered_works
        on results.work_label = considered_works.work_label
        and results.year between considered_works.year_from and considered_works.year_to
    where results.is_independent
      and results.participants > 0

),

school_list_years as (

    select distinct
        login,
        region_code,
        year + 1 as list_year
    from results
    where participants > 0

),

-- bottom_results
bottom_window as (

    select
        school_list_years.login,
        school_list_years.region_code,
        school_list_years.list_year,
        criteria.threshold,
        criteria.lookback_years,
        sum(counted_results.score_z_sum) / nullif(sum(counted_results.score_z_count), 0) as mean_z
    from school_list_years
    inner join criteria
        on criteria.criterion = 'bottom_results'
        and school_list_years.list_year between criteria.year_from and criteria.year_to
    left join counted_results
        on counted_results.login = school_list_years.login
        and counted_results.year between school_list_years.list_year - criteria.lookback_years
                                     and school_list_years.list_year - 1
    group by
        school_list_years.login,
        school_list_years.region_code,
        school_list_years.list_year,
        criteria.threshold,
        criteria.lookback_years

),

bottom_ranked as (

    select
        bottom_window.*,
        row_number() over (partition by region_code, list_year order by {{ decimal_9("mean_z") }}, login) as position_from_bottom,
        count(mean_z) over (partition by region_code, list_year) as ranked_schools
    from bottom_window
    where mean_z is not null

),

bottom_results as (

    select
        login,
        list_year,
        mean_z,
        100.0 * position_from_bottom / ranked_schools as percentile_from_bottom,
        100.0 * position_from_bottom <= threshold * ranked_schools as is_met,
        case when 100.0 * position_from_bottom <= threshold * ranked_schools then
            {{ dbt.cast('list_year - lookback_years', dbt.type_string()) }} || '–'
            || {{ dbt.cast('list_year - 1', dbt.type_string()) }}
            || ': средний стандартизованный результат ' || {{ format_number_ru('mean_z') }}
            || ' — в нижних ' || {{ format_number_ru('threshold') }} || ' % школ региона'
        end as reason
    from bottom_ranked

),

-- low_knowledge_quality
quality_works as (

    select
        school_list_years.login,
        school_list_years.list_year,
        criteria.min_count,
        criteria.threshold,
        counted_results.year,
        counted_results.work_label,
        counted_results.work_label_ru,
        {{ pct('counted_results.quality_count', 'counted_results.participants') }} as quality_pct
    from school_list_years
    inner join criteria
        on criteria.criterion = 'low_knowledge_quality'
        and school_list_years.list_year between criteria.year_from and criteria.year_to
    inner join counted_results
        on counted_results.login = school_list_years.login
        and counted_results.year between school_list_years.list_year - criteria.lookback_years
                                     and school_list_years.list_year - 1
        and counted_results.result_kind = 'mark'
    where 100.0 * counted_results.quality_count <= criteria.threshold * counted_results.participants

),

low_quality as (

    select
        login,
        list_year,
        count(*) as low_quality_works,
        count(*) >= max(min_count) as is_met,
        {{ dbt.listagg(dbt.cast('year', dbt.type_string()) ~ " || ':' || work_label", "'|'", "order by year, work_label") }} as evidence_works,
        'качество знаний ≤ ' || {{ format_number_ru('max(threshold)') }} || ' % по '
        || {{ dbt.cast('count(*)', dbt.type_string()) }} || ' работам ('
        || {{ dbt.listagg(dbt.cast('year', dbt.type_string()) ~ " || ': ' || work_label_ru || ' — ' || " ~ format_number_ru('quality_pct') ~ " || ' %'", "', '", "order by year, work_label") }}
        || ')' as details
    from quality_works
    group by login, list_year

),

-- below_region_average
gaps as (

    select
        school_list_years.login,
        school_list_years.list_year,
        criteria.threshold,
        criteria.lookback_years,
        sum(counted_results.score_100_count
            * (counted_results.score_100_sum / counted_results.score_100_count
               - areas.score_100_sum / areas.score_100_count))
        / nullif(sum(counted_results.score_100_count), 0) as gap_points
    from school_list_years
    inner join criteria
        on criteria.criterion = 'below_region_average'
        and school_list_years.list_year between criteria.year_from and criteria.year_to
    inner join counted_results
        on counted_results.login = school_list_years.login
        and counted_results.year between school_list_years.list_year - criteria.lookback_years
                                     and school_list_years.list_year - 1
        and counted_results.score_100_count > 0
    inner join areas
        on areas.region_code = counted_results.region_code
        and areas.year = counted_results.year
        and areas.work_label = counted_results.work_label
        and areas.score_100_count > 0
    group by
        school_list_years.login,
        school_list_years.list_year,
        criteria.threshold,
        criteria.lookback_years

),

below_average as (

    select
        login,
        list_year,
        gap_points,
        coalesce(gap_points < -threshold, false) as is_met,
        case when gap_points < -threshold then
            {{ dbt.cast('list_year - 1', dbt.type_string()) }}
            || ': средний балл школы на ' || {{ format_number_ru('-gap_points') }}
            || ' балла ниже среднего по региону (порог ' || {{ format_number_ru('threshold') }} || ')'
        end as reason
    from gaps

),

enabled as (

    select
        school_list_years.list_year,
        max(case when criteria.criterion = 'bottom_results' then 1 else 0 end) = 1 as bottom_results_enabled,
        max(case when criteria.criterion = 'low_knowledge_quality' then 1 else 0 end) = 1 as low_knowledge_quality_enabled,
        max(case when criteria.criterion = 'below_region_average' then 1 else 0 end) = 1 as below_region_average_enabled
    from (select distinct list_year from school_list_years) as school_list_years
    left join criteria
        on school_list_years.list_year between criteria.year_from and criteria.year_to
    group by school_list_years.list_year

),

final as (

    select
        school_list_years.login,
        school_list_years.list_year,
        enabled.bottom_results_enabled,
        bottom_results.mean_z as bottom_results_mean_z,
        bottom_results.percentile_from_bottom as bottom_results_percentile,
        coalesce(bottom_results.is_met, false) as bottom_results_met,
        bottom_results.reason as bottom_results_reason,
        enabled.low_knowledge_quality_enabled,
        coalesce(low_quality.low_quality_works, 0) as low_knowledge_quality_works,
        coalesce(low_quality.is_met, false) as low_knowledge_quality_met,
        case when low_quality.is_met then low_quality.evidence_works end as low_knowledge_quality_evidence,
        case when low_quality.is_met then low_quality.details end as low_knowledge_quality_reason,
        enabled.below_region_average_enabled,
        below_average.gap_points as below_region_average_gap_points,
        coalesce(below_average.is_met, false) as below_region_average_met,
        below_average.reason as below_region_average_reason
    from school_list_years
    inner join enabled
        on school_list_years.list_year = enabled.list_year
    left join bottom_results
        on school_list_years.login = bottom_results.login
        and school_list_years.list_year = bottom_results.list_year
    left join low_quality
        on school_list_years.login = low_quality.login
        and school_list_years.list_year = low_quality.list_year
    left join below_average
        on school_list_years.login = below_average.login
        and school_list_years.list_year = below_average.list_year

)

select * from final
