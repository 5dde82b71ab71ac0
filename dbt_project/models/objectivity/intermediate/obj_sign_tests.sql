-- Every sign of non-objective results tested for every school × year × ВПР work (jump_then_fall: per
-- school × year over all works, work_code 'ALL'). One row per test with the estimate, its interval, the
-- threshold and whether the test is triggered, plus the figures in Russian. Whether a triggered test
-- becomes a flag (the combination rule) is decided in mart_objectivity_flags.
-- Thresholds (z, margin, minimum n) come from the seed objectivity_thresholds, versioned by year.

with

stats as (

    select * from {{ ref('obj_work_stats') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

gia_standing as (

    select * from {{ ref('obj_gia_standing') }}

),

participants as (

    select * from {{ ref('obj_vpr_participants') }}

),

-- Signs that compare a school's share k / n with the rest of the region's share.
proportions as (

    select year, login, work_code, 'level_above_region' as sign, marks_4_5 as k, participants as n,
        {{ ratio('region_marks_4_5', 'region_participants') }} as reference,
        'Доля отметок «4» и «5»' as measure, marks_from as computed_from
    from stats
    where marks_from is not null
    union all
    select year, login, work_code, 'vpr_above_journal', raised, with_journal,
        {{ ratio('region_raised', 'region_with_journal') }},
        'Доля повысивших (ВПР выше отметки по журналу)', journal_from
    from stats
    where journal_from is not null
    union all
    select year, login, work_code, 'journal_above_vpr', lowered, with_journal,
        {{ ratio('region_lowered', 'region_with_journal') }},
        'Доля понизивших (ВПР ниже отметки по журналу)', journal_from
    from stats
    where journal_from is not null
    union all
    -- Without manipulation a school's share at the cut (of the window around it) is the region's; the
    -- Wilson bound is the inversion of the binomial score test against that share.
    select year, login, work_code, 'heaping_at_cuts', at_cut, at_cut + below_cut,
        {{ ratio('region_at_cut', 'region_at_cut + region_below_cut') }},
        'Доля баллов на границе «3»/«4» или на балл выше (из окна граница−2…граница+1)', scores_from
    from stats
    where scores_from is not null

),

-- Wilson (1927) score interval of k / n at the sign's z.
wilson as (

    select
        proportions.*, thresholds.z, thresholds.margin, thresholds.min_n,
        {{ ratio('proportions.k', 'proportions.n') }} as estimate,
        ({{ ratio('proportions.k', 'proportions.n') }} + thresholds.z ^ 2 / (2 * proportions.n)) / (1 + thresholds.z ^ 2 / proportions.n) as centre,
        thresholds.z * sqrt({{ ratio('proportions.k', 'proportions.n') }} * (1 - {{ ratio('proportions.k', 'proportions.n') }}) / proportions.n + thresholds.z ^ 2 / (4 * proportions.n ^ 2))
            / (1 + thresholds.z ^ 2 / proportions.n) as half_width
    from proportions
    inner join thresholds
        on proportions.sign = thresholds.sign
        and proportions.year between thresholds.year_from and thresholds.year_to
    where proportions.n > 0 and proportions.reference is not null

),

proportion_tests as (

    select
        year, login, work_code, sign, n, estimate,
        centre - half_width as ci_low,
        centre + half_width as ci_high,
        reference,
        reference + margin as threshold,
        n >= min_n and centre - half_width > reference + margin as triggered,
        measure || ': ' || {{ format_percent("100 * (estimate)") }} || ' из ' || n
            || ' (ДИ ' || {{ format_percent("100 * (centre - half_width)") }} || '–' || {{ format_percent("100 * (centre + half_width)") }}
            || '), по региону ' || {{ format_percent("100 * (reference)") }} || ', порог ' || {{ format_percent("100 * (reference + margin)") }}
            || '.' as detail,
        computed_from
    from wilson

),

-- ВПР standing against ОГЭ standing in the same subject (pooled years; see obj_gia_standing). The standard
-- error takes the within-school spread as the region's (1 in standardised units): conservative.
gia as (

    select
        stats.year, stats.login, stats.work_code, 'not_confirmed_by_gia' as sign,
        least(stats.participants, gia_standing.oge_participants) as n,
        stats.mean_z - gia_standing.oge_mean_z as estimate,
        gia_standing.oge_mean_z as reference,
        sqrt(1.0 / stats.participants + 1.0 / gia_standing.oge_participants) as se,
        'ВПР: ' || stats.participants || ' уч., ср. ' || {{ format_decimal_ru("stats.mean_z") }} || ' ст. откл. (процентиль '
            || {{ format_fixed("100 * stats.vpr_percentile", 0) }} || '); ОГЭ: ' || gia_standing.oge_participants || ' уч., ср. '
            || {{ format_decimal_ru("gia_standing.oge_mean_z") }} || ' (процентиль ' || {{ format_fixed("100 * gia_standing.oge_percentile", 0) }} || ')' as measure
    from stats
    inner join gia_standing
        on stats.year = gia_standing.year and stats.login = gia_standing.login
        and stats.subject_code = gia_standing.subject_code
    where stats.mean_z is not null

),

-- Hard-minus-easy success of the school's participants against the rest of the region's; the school must
-- also be below the region on easy tasks and above it on hard ones.
inversion as (

    select
        year, login, work_code, 'task_inversion' as sign,
        with_tasks as n,
        gap_sum / with_tasks - region_gap_sum / region_with_tasks as estimate,
        region_gap_sum / region_with_tasks as reference,
        gap_sd / sqrt(with_tasks) as se,
        easy_sum / with_tasks < region_easy_sum / region_with_tasks
            and hard_sum / with_tasks > region_hard_sum / region_with_tasks as inverted,
        'Базовые задания: ' || {{ format_percent("100 * (easy_sum / with_tasks)") }} || ' баллов (регион '
            || {{ format_percent("100 * (region_easy_sum / region_with_tasks)") }} || '), сложные: '
            || {{ format_percent("100 * (hard_sum / with_tasks)") }} || ' (регион ' || {{ format_percent("100 * (region_hard_sum / region_with_tasks)") }}
            || ')' as measure
    from stats
    where with_tasks > 1 and region_with_tasks > 0

),

-- Jacob & Levitt (2003): a school's mean standardised result over all works jumps in Y and falls in Y+1.
school_years as (

    select year, login, count(*) as participants, avg(z_score) as mean_z
    from participants
    group by year, login

),

jumps as (

    select
        this_year.year, this_year.login, 'ALL' as work_code, 'jump_then_fall' as sign,
        least(this_year.participants, previous_year.participants, next_year.participants) as n,
        this_year.mean_z - previous_year.mean_z as jump,
        this_year.mean_z - next_year.mean_z as fall,
        sqrt(1.0 / this_year.participants + 1.0 / previous_year.participants) as jump_se,
        sqrt(1.0 / this_year.participants + 1.0 / next_year.participants) as fall_se,
        'Средний результат по всем работам: ' || {{ format_decimal_ru("previous_year.mean_z") }} || ' → ' || {{ format_decimal_ru("this_year.mean_z") }}
            || ' → ' || {{ format_decimal_ru("next_year.mean_z") }} || ' ст. откл. (' || previous_year.year || '–' || next_year.year || ')' as measure
    from school_years as this_year
    inner join school_years as previous_year
        on this_year.login = previous_year.login and this_year.year - 1 = previous_year.year
    inner join school_years as next_year
        on this_year.login = next_year.login and this_year.year + 1 = next_year.year

),

mean_differences as (

    select year, login, work_code, sign, n, estimate, reference, se, true as shaped, measure,
        'разница ' as label
    from gia
    union all
    select year, login, work_code, sign, n, estimate, reference, se, inverted, measure,
        'разница (сложные − базовые) к региону '
    from inversion

),

mean_tests as (

    select
        mean_differences.year, mean_differences.login, mean_differences.work_code, mean_differences.sign, mean_differences.n, mean_differences.estimate,
        mean_differences.estimate - thresholds.z * mean_differences.se as ci_low,
        mean_differences.estimate + thresholds.z * mean_differences.se as ci_high,
        mean_differences.reference,
        thresholds.margin as threshold,
        mean_differences.n >= thresholds.min_n and mean_differences.shaped and mean_differences.estimate - thresholds.z * mean_differences.se > thresholds.margin as triggered,
        mean_differences.measure || '; ' || mean_differences.label || {{ format_decimal_ru("mean_differences.estimate") }} || ' (ДИ ' || {{ format_decimal_ru("mean_differences.estimate - thresholds.z * mean_differences.se") }}
            || '…' || {{ format_decimal_ru("mean_differences.estimate + thresholds.z * mean_differences.se") }} || '), порог ' || {{ format_decimal_ru("thresholds.margin") }} || '.' as detail,
        'participant_rows' as computed_from
    from mean_differences
    inner join thresholds
        on mean_differences.sign = thresholds.sign
        and mean_differences.year between thresholds.year_from and thresholds.year_to
    union all
    select
        jumps.year, jumps.login, jumps.work_code, jumps.sign, jumps.n,
        least(jumps.jump, jumps.fall),
        least(jumps.jump - thresholds.z * jumps.jump_se, jumps.fall - thresholds.z * jumps.fall_se),
        least(jumps.jump + thresholds.z * jumps.jump_se, jumps.fall + thresholds.z * jumps.fall_se),
        null,
        thresholds.margin,
        jumps.n >= thresholds.min_n and least(jumps.jump - thresholds.z * jumps.jump_se, jumps.fall - thresholds.z * jumps.fall_se) > thresholds.margin,
        jumps.measure || '; рост ' || {{ format_decimal_ru("jumps.jump") }} || ', падение ' || {{ format_decimal_ru("jumps.fall") }}
            || ', нижняя граница меньшего из них ' || {{ format_decimal_ru("least(jumps.jump - thresholds.z * jumps.jump_se, jumps.fall - thresholds.z * jumps.fall_se)") }}
            || ', порог ' || {{ format_decimal_ru("thresholds.margin") }} || '.',
        'participant_rows'
    from jumps
    inner join thresholds
        on jumps.sign = thresholds.sign and jumps.year between thresholds.year_from and thresholds.year_to

),

final as (

    select * from proportion_tests
    union all
    select * from mean_tests

)

select * from final
