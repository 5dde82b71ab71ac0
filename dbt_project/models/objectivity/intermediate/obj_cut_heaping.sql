-- Lenient grading at the cuts, per school × year × ВПР work: how many of the school's pupils in the window
-- around each cut of the work's scale («3», «4», «5») sit at the cut or just above it, against how many the
-- region's own score histogram would put there for a school of this level.
--
-- Why not the region's share in the window as it is: the share at the cut depends on where the school's
-- scores lie. A strong school has more pupils above the «3» cut than below it without any leniency, a weak
-- one fewer, and a fixed reference made that level difference look like heaping (or hid heaping in a weak
-- school). So the region's histogram is moved to the school's level on the normal-score scale: the rest of
-- the region's cumulative shares of the primary scores are read as normal quantiles (score s spans
-- u⁻(s) … u⁺(s)), so the region's pupils are N(0, 1) on that scale whatever the shape of the scale, its
-- uneven steps, floor and ceiling. A school's pupils are N(μ, v) on it: μ the mean normal score of its
-- pupils shrunk towards the region's by its sampling error, v the within-school variance plus what is left
-- uncertain of μ (both from the region's schools). Its expected share of score s is
-- Φ((u⁺ − μ)/√v) − Φ((u⁻ − μ)/√v). Given the school's pupils in a cut's window, those at the cut and above
-- are binomial with the share that puts there; the cuts' windows do not overlap, so observed and expected
-- counts and variances add up over the work's cuts.
--
-- Computed from primary score counts (int_vpr_school_work_score_counts), so participant rows and the ФИС
-- ОКО report «Распределение первичных баллов» give the same statistic. Methods: docs/objectivity.md.
with

score_counts as (

    select * from {{ ref('int_vpr_school_work_score_counts') }}
    where pupils > 0

),

vpr_works as (

    select * from {{ ref('vpr_works') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}
    where sign = 'heaping_at_cuts'

),

-- Every cut of the work's scale, with the window around it: points_below_cut points under the cut where
-- lenient grading takes scores from and points_from_cut points from the cut up where it puts them. A
-- window never reaches into the next cut's (where the cuts are close, the upper part wins).
scale_cuts as (

    select
        year_from, year_to, work_code, max_primary_score, 3 as mark, cut_3 as cut,
        {{ dbt.cast('null', dbt.type_int()) }} as previous_cut, cut_4 as next_cut
    from vpr_works
    union all
    select year_from, year_to, work_code, max_primary_score, 4, cut_4, cut_3, cut_5
    from vpr_works
    union all
    select year_from, year_to, work_code, max_primary_score, 5, cut_5, cut_4, null
    from vpr_works

),

schools as (

    select year, login, region_code, work_code, scores_from, sum(pupils) as pupils
    from score_counts
    group by year, login, region_code, work_code, scores_from

),

region_scores as (

    select year, region_code, work_code, score, sum(pupils) as pupils
    from score_counts
    group by year, region_code, work_code, score

),

-- Every score of the region beside the school's pupils at it, and the rest of the region's share of pupils
-- below the score and up to it.
school_grid as (

    select
        schools.year, schools.login, schools.region_code, schools.work_code, region_scores.score,
        coalesce(school.pupils, 0) as pupils,
        region_scores.pupils - coalesce(school.pupils, 0) as rest_at_score,
        sum(region_scores.pupils - coalesce(school.pupils, 0)) over cumulative as rest_up_to,
        sum(region_scores.pupils - coalesce(school.pupils, 0)) over school_work as rest_pupils
    from schools
    inner join region_scores
        on schools.year = region_scores.year and schools.region_code = region_scores.region_code
        and schools.work_code = region_scores.work_code
    left join score_counts as school
        on schools.year = school.year and schools.login = school.login and schools.work_code = school.work_code
        and region_scores.score = school.score
    window
        school_work as (partition by schools.year, schools.login, schools.work_code),
        cumulative as (
            partition by schools.year, schools.login, schools.work_code order by region_scores.score
            rows between unbounded preceding and current row
        )

),

shares as (

    select
        *,
        {{ ratio('rest_up_to - rest_at_score', 'rest_pupils') }} as share_below,
        {{ ratio('rest_up_to', 'rest_pupils') }} as share_up_to
    from school_grid
    where rest_pupils > 0

),

-- The score's interval on the rest of the region's normal-score scale.
intervals as (

    select
        *,
        {{ normal_quantile('share_below') }} as lower_bound,
        {{ normal_quantile('share_up_to') }} as upper_bound,
        share_up_to - share_below as rest_share
    from shares

),

-- The mean normal score of a pupil at the score (the normal's mean within its interval), which the
-- school's level is measured in.
pupil_scores as (

    select
        *,
        case
            when rest_share > 1e-9 then 0.3989422804014327
                * (exp(-0.5 * lower_bound * lower_bound) - exp(-0.5 * upper_bound * upper_bound)) / rest_share
            else upper_bound
        end as normal_score
    from intervals

),

school_levels as (

    select
        year, login, region_code, work_code,
        sum(pupils) as pupils,
        sum(pupils * normal_score) / sum(pupils) as mean_score,
        sum(pupils * normal_score * normal_score) - sum(pupils * normal_score) ^ 2 / sum(pupils) as squares
    from pupil_scores
    group by year, login, region_code, work_code

),

-- The split of the normal-score variance into within and between schools (one-way analysis of variance
-- over the region's schools): how far a school's mean is to be trusted as its level.
region_spread as (

    select
        year, region_code, work_code,
        sum(squares) / nullif(sum(pupils) - count(*), 0) as within_variance,
        (
            sum(pupils * mean_score * mean_score) - sum(pupils * mean_score) ^ 2 / sum(pupils)
            - (count(*) - 1) * sum(squares) / nullif(sum(pupils) - count(*), 0)
        ) / nullif(sum(pupils) - sum(pupils * pupils) / sum(pupils), 0) as between_variance
    from school_levels
    group by year, region_code, work_code

),

-- The between-school variance (floored at 0) and the sampling variance of the school's mean beside it.
variances as (

    select
        school_levels.year, school_levels.login, school_levels.work_code, school_levels.mean_score,
        greatest(region_spread.between_variance, 0) as between_variance,
        region_spread.within_variance / school_levels.pupils as mean_variance
    from school_levels
    inner join region_spread
        on school_levels.year = region_spread.year and school_levels.region_code = region_spread.region_code
        and school_levels.work_code = region_spread.work_code
    where region_spread.within_variance > 0

),

shrunk as (

    select
        year, login, work_code, between_variance,
        between_variance / (between_variance + mean_variance) * mean_score as level,
        mean_variance / (between_variance + mean_variance) as unreliability
    from variances

),

-- On the normal-score scale the region's pupils have variance 1: a school's pupils spread by what is not
-- between schools, plus the uncertainty left of its level.
levels as (

    select
        year, login, work_code, level,
        sqrt(1 - least(between_variance, 0.9) + between_variance * unreliability) as spread
    from shrunk

),

windows as (

    select
        schools.year, schools.login, schools.region_code, schools.work_code, schools.scores_from,
        levels.level, levels.spread, scale_cuts.mark, scale_cuts.cut,
        greatest(scale_cuts.cut - thresholds.points_below_cut, coalesce(scale_cuts.previous_cut + thresholds.points_from_cut, 0))
            as window_from,
        least(scale_cuts.cut + thresholds.points_from_cut - 1, coalesce(scale_cuts.next_cut - 1, scale_cuts.max_primary_score))
            as window_to
    from schools
    inner join levels
        on schools.year = levels.year and schools.login = levels.login and schools.work_code = levels.work_code
    inner join scale_cuts
        on schools.work_code = scale_cuts.work_code
        and schools.year between scale_cuts.year_from and scale_cuts.year_to
    inner join thresholds
        on schools.year between thresholds.year_from and thresholds.year_to

),

window_scores as (

    select
        windows.year, windows.login, windows.region_code, windows.work_code, windows.scores_from, windows.mark,
        intervals.score >= windows.cut as at_cut,
        intervals.pupils,
        {{ normal_upper_tail('(intervals.lower_bound - windows.level) / windows.spread') }}
            - {{ normal_upper_tail('(intervals.upper_bound - windows.level) / windows.spread') }} as expected_share
    from windows
    inner join intervals
        on windows.year = intervals.year and windows.login = intervals.login and windows.work_code = intervals.work_code
        and intervals.score between windows.window_from and windows.window_to

),

cut_counts as (

    select
        year, login, region_code, work_code, scores_from, mark,
        sum(pupils) as in_window,
        sum(case when at_cut then pupils else 0 end) as at_cut,
        {{ ratio('sum(case when at_cut then expected_share else 0 end)', 'sum(expected_share)') }} as expected_share
    from window_scores
    group by year, login, region_code, work_code, scores_from, mark

),

-- A cut the school has no pupils around, or where the region puts everybody on one side, says nothing.
-- Expected counts to a hundredth of a pupil: the normal approximations behind them are good to about a
-- thousandth, and so both targets give the same figures.
final as (

    select
        year, login, region_code, work_code, scores_from,
        count(*) as cuts,
        sum(in_window) as in_window,
        sum(at_cut) as at_cut,
        {{ dbt.cast('round(' ~ decimal_9('sum(in_window * expected_share)') ~ ', 2)', type_double()) }}
            as expected_at_cut,
        {{ dbt.cast('round(' ~ decimal_9('sum(in_window * expected_share * (1 - expected_share))') ~ ', 2)', type_double()) }}
            as at_cut_variance
    from cut_counts
    where in_window > 0 and expected_share > 1e-6 and expected_share < 1 - 1e-6
    group by year, login, region_code, work_code, scores_from

)

select * from final
