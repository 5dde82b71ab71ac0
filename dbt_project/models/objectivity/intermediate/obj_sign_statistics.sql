-- The statistic of every sign of non-objective results for every school × year × ВПР work (jump_then_fall:
-- per school × year over all works, work_code 'ALL'), before it is judged: the school's estimate, what it
-- is compared with (the rest of the region, or the school's own ОГЭ), their difference (`effect`), its
-- sampling standard error and the school's level (`covariate`) the expected difference may depend on.
-- obj_sign_tests judges the effect against the spread of the same effect among the region's schools.
with

stats as (

    select * from {{ ref('obj_work_stats') }}

),

gia_standing as (

    select * from {{ ref('obj_gia_standing') }}

),

participants as (

    select * from {{ ref('obj_vpr_participants') }}

),

cut_heaping as (

    select * from {{ ref('obj_cut_heaping') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

-- The share of «4» and «5» is the school's level at every level of detail (participant rows or the
-- report «Статистика по отметкам»): the signs whose expected value depends on the level are fitted on it.
levels as (

    select *, {{ ratio('marks_4_5', 'participants') }} as share_4_5
    from stats

),

-- Signs that compare a school's share k / n with the rest of the region's share p₀. Under no manipulation
-- k is binomial(n, p₀) up to the school's own difference from the region, which obj_sign_tests estimates.
proportions as (

    select year, login, region_code, work_code, 'level_above_region' as sign, marks_4_5 as k, participants as n,
        {{ ratio('region_marks_4_5', 'region_participants') }} as reference,
        {{ dbt.cast('null', type_double()) }} as covariate,
        'Доля отметок «4» и «5»' as measure, marks_from as computed_from
    from levels
    where marks_from is not null
    union all
    -- From the ФИС ОКО report only the share is known; participant rows give the mark difference below.
    select year, login, region_code, work_code, 'vpr_above_journal', raised, with_journal,
        {{ ratio('region_raised', 'region_with_journal') }}, {{ dbt.cast('null', type_double()) }},
        'Доля повысивших (ВПР выше отметки по журналу)', journal_from
    from levels
    where journal_from is not null and journal_gap_sum is null
    union all
    select year, login, region_code, work_code, 'journal_above_vpr', lowered, with_journal,
        {{ ratio('region_lowered', 'region_with_journal') }}, share_4_5,
        'Доля понизивших (ВПР ниже отметки по журналу)', journal_from
    from levels
    where journal_from is not null

),

proportion_statistics as (

    select
        year, login, region_code, work_code, sign, n,
        {{ ratio('k', 'n') }} as estimate,
        reference,
        {{ ratio('k', 'n') }} - reference as effect,
        sqrt(reference * (1 - reference) / n) as sampling_se,
        covariate,
        true as shaped,
        true as is_share,
        measure,
        computed_from
    from proportions
    where n > 0 and reference > 0 and reference < 1

),

-- Lenient grading moves scores just under a cut up to it: the school's pupils at the cuts of the window
-- around them against what the region's score histogram puts there at the school's level, with the
-- binomial variance of each cut's window summed over the cuts (obj_cut_heaping).
heaping as (

    select
        cut_heaping.year, cut_heaping.login, cut_heaping.region_code, cut_heaping.work_code,
        'heaping_at_cuts' as sign,
        cut_heaping.in_window as n,
        {{ ratio('cut_heaping.at_cut', 'cut_heaping.in_window') }} as estimate,
        cut_heaping.expected_at_cut / cut_heaping.in_window as reference,
        {{ ratio('cut_heaping.at_cut', 'cut_heaping.in_window') }} - cut_heaping.expected_at_cut / cut_heaping.in_window
            as effect,
        sqrt(cut_heaping.at_cut_variance) / cut_heaping.in_window as sampling_se,
        levels.share_4_5 as covariate,
        true as shaped,
        true as is_share,
        'Доля баллов на границе отметки и выше (граница … граница+' || (thresholds.points_from_cut - 1)
            || ') из окна граница−' || thresholds.points_below_cut || ' … граница+' || (thresholds.points_from_cut - 1)
            || ', границ: ' || cut_heaping.cuts
            || '; «по региону» — по распределению баллов региона при уровне школы' as measure,
        cut_heaping.scores_from as computed_from
    from cut_heaping
    inner join levels
        on cut_heaping.year = levels.year and cut_heaping.login = levels.login
        and cut_heaping.work_code = levels.work_code
    inner join thresholds
        on thresholds.sign = 'heaping_at_cuts' and cut_heaping.year between thresholds.year_from and thresholds.year_to
    where cut_heaping.at_cut_variance > 0

),

-- The journal signs per pupil: the mean of (ВПР mark − journal mark) against the rest of the region's, its
-- standard error from the spread of that difference among the region's pupils; over all pupils with a journal
-- mark (vpr_above_journal), and over those whose journal mark is at or below the school's mean
-- (weak_above_journal: help is given mostly to the weaker pupils, whose «2» it avoids, and the gap of a
-- school's strong pupils, with no room above a «5», would only dilute it).
journal_gaps as (
{% for sign, pupils, gap, measure in [
    ('vpr_above_journal', 'with_journal', 'journal_gap', 'Средняя разница «отметка ВПР − отметка по журналу»'),
    ('weak_above_journal', 'with_journal_lower', 'journal_gap_lower',
        'Средняя разница «отметка ВПР − отметка по журналу» у участников с отметкой по журналу не выше средней по школе'),
] %}
    {% if not loop.first %}union all{% endif %}
    select
        year, login, region_code, work_code, '{{ sign }}' as sign,
        {{ pupils }} as n,
        {{ ratio(gap ~ '_sum', pupils) }} as estimate,
        {{ ratio('region_' ~ gap ~ '_sum', 'region_' ~ pupils) }} as reference,
        sqrt(
            ({{ dbt.cast('region_' ~ gap ~ '_squares', type_double()) }}
                - {{ dbt.cast('region_' ~ gap ~ '_sum', type_double()) }} * region_{{ gap }}_sum / region_{{ pupils }})
            / (region_{{ pupils }} - 1) / {{ pupils }}
        ) as sampling_se,
        -- Not fitted on the level: a strong school's pupils have little room above a «5» in the journal,
        -- and a straight line through that ceiling expects too small a gap of the strongest schools.
        {{ dbt.cast('null', type_double()) }} as covariate,
        '{{ measure }}' as measure
    from levels
    where {{ gap }}_sum is not null and {{ pupils }} > 0 and region_{{ pupils }} > 1
{% endfor %}
),

-- ВПР standing against the school's ОГЭ standing in the same subject (pooled years; obj_gia_standing);
-- the within-school spread is the region's (1 in standardised units).
gia as (

    select
        stats.year, stats.login, stats.region_code, stats.work_code, 'not_confirmed_by_gia' as sign,
        stats.participants as n,
        stats.mean_z as estimate,
        gia_standing.oge_mean_z as reference,
        sqrt(1.0 / stats.participants + 1.0 / gia_standing.oge_participants) as sampling_se,
        gia_standing.oge_mean_z as covariate,
        'ВПР: ' || stats.participants || ' уч., ср. ' || {{ format_decimal_ru("stats.mean_z") }} || ' ст. откл. (процентиль '
            || {{ format_fixed("100 * stats.vpr_percentile", 0) }} || '); ОГЭ ' || gia_standing.oge_years || ': '
            || gia_standing.oge_participants || ' уч., ср. ' || {{ format_decimal_ru("gia_standing.oge_mean_z") }}
            || ' (процентиль ' || {{ format_fixed("100 * gia_standing.oge_percentile", 0) }} || ')' as measure
    from stats
    inner join gia_standing
        on stats.year = gia_standing.year and stats.login = gia_standing.login
        and stats.subject_code = gia_standing.subject_code
    where stats.mean_z is not null

),

-- A work inflated for the school stands above the school's own other works of the year, which a lyceum
-- good at everything does not: the work's standardised mean against the mean of the school's other works
-- (a contrast of a unit against its own other measurements). The sampling variance is the work's plus
-- that of the others' mean; obj_sign_tests adds the spread between works that honest schools show.
-- A mean's variance is the region's pooled within-school variance of the work over its participants: a
-- school's own spread from two or three pupils would make a chance difference look certain.
within_school as (

    select
        year, region_code, work_code,
        sum(z_squares - participants * mean_z * mean_z) / nullif(sum(participants - 1), 0) as pupil_variance
    from stats
    where mean_z is not null
    group by year, region_code, work_code

),

work_means as (

    select
        stats.year, stats.login, stats.region_code, stats.work_code, stats.participants, stats.mean_z,
        within_school.pupil_variance / stats.participants as mean_variance
    from stats
    inner join within_school
        on stats.year = within_school.year and stats.region_code = within_school.region_code
        and stats.work_code = within_school.work_code
    where stats.mean_z is not null

),

school_year_means as (

    select year, login, count(*) as works, sum(mean_z) as mean_sum, sum(mean_variance) as variance_sum
    from work_means
    group by year, login

),

own_works as (

    select
        work_means.year, work_means.login, work_means.region_code, work_means.work_code,
        'above_own_works' as sign,
        work_means.participants as n,
        work_means.mean_z as estimate,
        (school_year_means.mean_sum - work_means.mean_z) / (school_year_means.works - 1) as reference,
        sqrt(greatest(
            work_means.mean_variance
                + (school_year_means.variance_sum - work_means.mean_variance) / ((school_year_means.works - 1) ^ 2),
            0
        )) as sampling_se,
        'Средний результат работы ' || {{ format_decimal_ru("work_means.mean_z") }} || ' ст. откл.; других работ школы ('
            || (school_year_means.works - 1) || ') в среднем' as measure
    from work_means
    inner join school_year_means
        on work_means.year = school_year_means.year and work_means.login = school_year_means.login
    where school_year_means.works > 1

),

-- Help on hard tasks: the school's success on hard tasks against its success on easy ones, on the logit
-- scale. Under the item-response model a task's log-odds of success is ability minus difficulty, so
-- logit(hard) − logit(easy) is the same for a strong and a weak school; only help (or hindrance) on one
-- kind of task moves it, and a strong school near the ceiling on easy tasks is not mistaken for one.
-- `shaped`: the school is also below the region on easy tasks and above it on hard ones.
task_rates as (

    select
        year, login, region_code, work_code, with_tasks, region_with_tasks,
        least(greatest(easy_sum / with_tasks, 0.01), 0.99) as easy,
        least(greatest(hard_sum / with_tasks, 0.01), 0.99) as hard,
        least(greatest(region_easy_sum / region_with_tasks, 0.01), 0.99) as region_easy,
        least(greatest(region_hard_sum / region_with_tasks, 0.01), 0.99) as region_hard,
        -- The pupils' (co)variances of easy and hard success in the rest of the region.
        (region_easy_squares - region_easy_sum * region_easy_sum / region_with_tasks) / (region_with_tasks - 1) as easy_variance,
        (region_hard_squares - region_hard_sum * region_hard_sum / region_with_tasks) / (region_with_tasks - 1) as hard_variance,
        (region_easy_hard_products - region_easy_sum * region_hard_sum / region_with_tasks) / (region_with_tasks - 1) as covariance
    from levels
    where with_tasks > 0 and region_with_tasks > 1

),

inversion as (

    select
        year, login, region_code, work_code, 'task_inversion' as sign,
        with_tasks as n,
        ln(hard / (1 - hard)) - ln(easy / (1 - easy)) as estimate,
        ln(region_hard / (1 - region_hard)) - ln(region_easy / (1 - region_easy)) as reference,
        -- Delta method at the school's rates.
        sqrt(greatest(
            hard_variance / (hard * (1 - hard)) ^ 2 + easy_variance / (easy * (1 - easy)) ^ 2
                - 2 * covariance / (hard * (1 - hard) * easy * (1 - easy)),
            0
        ) / with_tasks) as sampling_se,
        {{ dbt.cast('null', type_double()) }} as covariate,
        easy < region_easy and hard > region_hard as shaped,
        'Базовые задания: ' || {{ format_percent("100 * easy") }} || ' баллов (регион '
            || {{ format_percent("100 * region_easy") }} || '), сложные: '
            || {{ format_percent("100 * hard") }} || ' (регион ' || {{ format_percent("100 * region_hard") }}
            || '); разница логитов (сложные − базовые)' as measure
    from task_rates

),

-- Jacob & Levitt (2003): a school's mean standardised result over all works jumps in Y and falls in Y+1.
school_years as (

    select year, login, region_code, count(*) as participants, avg(z_score) as mean_z
    from participants
    group by year, login, region_code

),

jumps as (

    select
        this_year.year, this_year.login, this_year.region_code, 'ALL' as work_code, 'jump_then_fall' as sign,
        least(this_year.participants, previous_year.participants, next_year.participants) as n,
        least(this_year.mean_z - previous_year.mean_z, this_year.mean_z - next_year.mean_z) as estimate,
        {{ dbt.cast('0', type_double()) }} as reference,
        sqrt(1.0 / this_year.participants + 1.0 / least(previous_year.participants, next_year.participants)) as sampling_se,
        'Средний результат по всем работам: ' || {{ format_decimal_ru("previous_year.mean_z") }} || ' → ' || {{ format_decimal_ru("this_year.mean_z") }}
            || ' → ' || {{ format_decimal_ru("next_year.mean_z") }} || ' ст. откл. (' || previous_year.year || '–' || next_year.year
            || '); меньшее из роста и падения' as measure
    from school_years as this_year
    inner join school_years as previous_year
        on this_year.login = previous_year.login and this_year.year - 1 = previous_year.year
    inner join school_years as next_year
        on this_year.login = next_year.login and this_year.year + 1 = next_year.year

),

mean_statistics as (

    select year, login, region_code, work_code, sign, n, estimate, reference, estimate - reference as effect,
        sampling_se, covariate, true as shaped, false as is_share, measure, 'participant_rows' as computed_from
    from journal_gaps
    union all
    select year, login, region_code, work_code, sign, n, estimate, reference, estimate - reference,
        sampling_se, covariate, true, false, measure, 'participant_rows'
    from gia
    union all
    select year, login, region_code, work_code, sign, n, estimate, reference, estimate - reference,
        sampling_se, covariate, shaped, false, measure, 'participant_rows'
    from inversion
    union all
    select year, login, region_code, work_code, sign, n, estimate, reference, estimate - reference,
        sampling_se, {{ dbt.cast('null', type_double()) }}, true, false, measure, 'participant_rows'
    from jumps
    union all
    select year, login, region_code, work_code, sign, n, estimate, reference, estimate - reference,
        sampling_se, {{ dbt.cast('null', type_double()) }}, true, false, measure, 'participant_rows'
    from own_works

),

final as (

    select * from proportion_statistics
    union all
    select * from heaping
    union all
    select * from mean_statistics

)

select * from final
