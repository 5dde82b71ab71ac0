{#- The school's mean standardised ВПР result per year: the mean of participant z-scores (standardised
    within region × year × work, int_assessment_results) over every ВПР work, with the number of results
    and the pooled within-school standard deviation of the region-year, from which the standard error of
    the school mean follows (sd_within / √n). -#}
with

results as (

    select * from {{ ref('int_school_work_results') }}
    where assessment = 'ВПР'
      and score_z_count > 0

),

schools as (

    select
        login,
        region_code,
        year,
        sum(score_z_count) as vpr_results,
        sum(score_z_sum) / sum(score_z_count) as vpr_mean_z,
        sum(score_z_squares) - sum(score_z_sum) * sum(score_z_sum) / sum(score_z_count) as within_squares
    from results
    group by login, region_code, year

),

final as (

    select
        schools.*,
        sqrt(
            sum(within_squares) over (partition by region_code, year)
            / nullif(sum(vpr_results - 1) over (partition by region_code, year), 0)
        ) as within_school_sd
    from schools

)

select
    login,
    region_code,
    year,
    vpr_results,
    vpr_mean_z,
    within_school_sd,
    within_school_sd / sqrt(vpr_results) as vpr_mean_z_se
from final
