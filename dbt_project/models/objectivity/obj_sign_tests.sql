-- Every sign of non-objective results tested for every school × year × ВПР work (jump_then_fall: per
-- school × year over all works, work_code 'ALL'). One row per test with the estimate, its interval, the
-- threshold and whether the test is triggered, plus the figures in Russian. Whether a triggered test
-- becomes a flag (the combination rule) is decided in mart_objectivity_flags.
-- Thresholds (z, margin, minimum n) come from the seed objectivity_thresholds, versioned by year.

with stats as (
    select * from {{ ref('obj_work_stats') }}
),

thresholds as (
    select * from {{ ref('objectivity_thresholds') }}
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
        p.*, t.z, t.margin, t.min_n,
        {{ ratio('p.k', 'p.n') }} as estimate,
        ({{ ratio('p.k', 'p.n') }} + t.z ^ 2 / (2 * p.n)) / (1 + t.z ^ 2 / p.n) as centre,
        t.z * sqrt({{ ratio('p.k', 'p.n') }} * (1 - {{ ratio('p.k', 'p.n') }}) / p.n + t.z ^ 2 / (4 * p.n ^ 2))
            / (1 + t.z ^ 2 / p.n) as half_width
    from proportions as p
    join thresholds as t on t.sign = p.sign and p.year between t.year_from and t.year_to
    where p.n > 0 and p.reference is not null
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
        s.year, s.login, s.work_code, 'not_confirmed_by_gia' as sign,
        least(s.participants, g.oge_participants) as n,
        s.mean_z - g.oge_mean_z as estimate,
        g.oge_mean_z as reference,
        sqrt(1.0 / s.participants + 1.0 / g.oge_participants) as se,
        'ВПР: ' || s.participants || ' уч., ср. ' || {{ format_decimal_ru("s.mean_z") }} || ' ст. откл. (процентиль '
            || {{ format_fixed("100 * s.vpr_percentile", 0) }} || '); ОГЭ: ' || g.oge_participants || ' уч., ср. '
            || {{ format_decimal_ru("g.oge_mean_z") }} || ' (процентиль ' || {{ format_fixed("100 * g.oge_percentile", 0) }} || ')' as measure
    from stats as s
    join {{ ref('obj_gia_standing') }} as g
        on g.year = s.year and g.login = s.login and g.subject_code = s.subject_code
    where s.mean_z is not null
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
    from {{ ref('obj_vpr_participants') }}
    group by year, login
),

jumps as (
    select
        y.year, y.login, 'ALL' as work_code, 'jump_then_fall' as sign,
        least(y.participants, prev.participants, next.participants) as n,
        y.mean_z - prev.mean_z as jump,
        y.mean_z - next.mean_z as fall,
        sqrt(1.0 / y.participants + 1.0 / prev.participants) as jump_se,
        sqrt(1.0 / y.participants + 1.0 / next.participants) as fall_se,
        'Средний результат по всем работам: ' || {{ format_decimal_ru("prev.mean_z") }} || ' → ' || {{ format_decimal_ru("y.mean_z") }}
            || ' → ' || {{ format_decimal_ru("next.mean_z") }} || ' ст. откл. (' || prev.year || '–' || next.year || ')' as measure
    from school_years as y
    join school_years as prev on prev.login = y.login and prev.year = y.year - 1
    join school_years as next on next.login = y.login and next.year = y.year + 1
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
        d.year, d.login, d.work_code, d.sign, d.n, d.estimate,
        d.estimate - t.z * d.se as ci_low,
        d.estimate + t.z * d.se as ci_high,
        d.reference,
        t.margin as threshold,
        d.n >= t.min_n and d.shaped and d.estimate - t.z * d.se > t.margin as triggered,
        d.measure || '; ' || d.label || {{ format_decimal_ru("d.estimate") }} || ' (ДИ ' || {{ format_decimal_ru("d.estimate - t.z * d.se") }}
            || '…' || {{ format_decimal_ru("d.estimate + t.z * d.se") }} || '), порог ' || {{ format_decimal_ru("t.margin") }} || '.' as detail,
        'participant_rows' as computed_from
    from mean_differences as d
    join thresholds as t on t.sign = d.sign and d.year between t.year_from and t.year_to
    union all
    select
        j.year, j.login, j.work_code, j.sign, j.n,
        least(j.jump, j.fall),
        least(j.jump - t.z * j.jump_se, j.fall - t.z * j.fall_se),
        least(j.jump + t.z * j.jump_se, j.fall + t.z * j.fall_se),
        null,
        t.margin,
        j.n >= t.min_n and least(j.jump - t.z * j.jump_se, j.fall - t.z * j.fall_se) > t.margin,
        j.measure || '; рост ' || {{ format_decimal_ru("j.jump") }} || ', падение ' || {{ format_decimal_ru("j.fall") }}
            || ', нижняя граница меньшего из них ' || {{ format_decimal_ru("least(j.jump - t.z * j.jump_se, j.fall - t.z * j.fall_se)") }}
            || ', порог ' || {{ format_decimal_ru("t.margin") }} || '.',
        'participant_rows'
    from jumps as j
    join thresholds as t on t.sign = j.sign and j.year between t.year_from and t.year_to
)

select * from proportion_tests
union all
select * from mean_tests
