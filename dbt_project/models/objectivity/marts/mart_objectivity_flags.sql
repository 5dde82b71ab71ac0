-- Signs of non-objective ВПР results, one row per school × year × work × sign tested, with the estimate,
-- its interval, what would be expected for the school, the z-score, whether the school is flagged and
-- why (in Russian), and the review status.
--
-- Flagging rule (obj_school_year_evidence): a sign that can flag on its own flags a school and year when
-- its evidence pooled over the school's works is a discovery at the false discovery rate of seed
-- objectivity_pooling; the works that carry the evidence (z above `evidence_z`) are its flagged rows.
-- «Результат выше региона» flags only when a flagged sign of the same work, or a jump-then-fall of the
-- school that year, confirms it, so lyceums, gymnasiums and schools in favourable conditions are not
-- flagged for being good; informational signs never flag.
--
-- Every per-work sign has a row for every school × year × work assessed: `computed_from` records the level
-- of detail it was computed from (participant_rows, mark_statistics, journal_comparison,
-- score_distribution; docs/levels_of_detail.md), and a sign the school's data cannot give is a row with
-- is_computable = false and the reason, not a silent absence.
with

sign_tests as (

    select * from {{ ref('obj_sign_tests') }}

),

thresholds as (

    select * from {{ ref('objectivity_thresholds') }}

),

stats as (

    select * from {{ ref('obj_work_stats') }}

),

evidence as (

    select * from {{ ref('obj_school_year_evidence') }}

),

pooling as (

    select * from {{ ref('objectivity_pooling') }}

),

reviews as (

    select * from {{ ref('obj_reviews') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

computed as (

    select
        sign_tests.year, sign_tests.login, sign_tests.work_code, sign_tests.sign, sign_tests.n,
        sign_tests.estimate, sign_tests.ci_low, sign_tests.ci_high, sign_tests.reference, sign_tests.threshold,
        sign_tests.z_score, sign_tests.p_value, sign_tests.triggered, sign_tests.detail, sign_tests.computed_from,
        thresholds.sign_name, thresholds.role, true as is_computable
    from sign_tests
    inner join thresholds
        on sign_tests.sign = thresholds.sign and sign_tests.year between thresholds.year_from and thresholds.year_to

),

not_computed as (

    select
        stats.year, stats.login, stats.work_code, thresholds.sign,
        cast(null as {{ dbt.type_bigint() }}) as n,
        cast(null as {{ type_double() }}) as estimate,
        cast(null as {{ type_double() }}) as ci_low,
        cast(null as {{ type_double() }}) as ci_high,
        cast(null as {{ type_double() }}) as reference,
        cast(null as {{ type_double() }}) as threshold,
        cast(null as {{ type_double() }}) as z_score,
        cast(null as {{ type_double() }}) as p_value,
        cast(null as boolean) as triggered,
        'Не вычисляется: ' || case
            when thresholds.sign = 'level_above_region' and stats.marks_from is null
                then 'нет распределения отметок (нет ни строк участников, ни отчёта «Статистика по отметкам»).'
            when thresholds.sign in ('vpr_above_journal', 'weak_above_journal', 'journal_above_vpr') and stats.journal_from is null
                then 'нет сравнения с отметками по журналу (нет ни строк участников, ни отчёта «Сравнение отметок с отметками по журналу»).'
            when thresholds.sign = 'weak_above_journal' and stats.mean_z is null
                then 'признак вычисляется только по строкам участников (нужны отметки каждого участника), а у школы по этой работе есть только отчёты ФИС ОКО.'
            when thresholds.sign in ('vpr_above_journal', 'weak_above_journal', 'journal_above_vpr')
                then 'нет участников с отметкой по журналу.'
            when thresholds.sign = 'heaping_at_cuts' and stats.scores_from is null
                then 'нет распределения первичных баллов (нет ни строк участников, ни отчёта «Распределение первичных баллов»).'
            when thresholds.sign = 'heaping_at_cuts' then 'нет участников у границ отметок.'
            when thresholds.sign in ('task_inversion', 'not_confirmed_by_gia') and stats.mean_z is null
                then 'признак вычисляется только по строкам участников, а у школы по этой работе есть только отчёты ФИС ОКО.'
            when thresholds.sign = 'task_inversion' then 'недостаточно участников с баллами за задания.'
            when thresholds.sign = 'not_confirmed_by_gia' then 'нет результатов ОГЭ школы по предмету.'
            when thresholds.sign = 'above_own_works' and stats.mean_z is null
                then 'признак вычисляется только по строкам участников (нужен средний стандартизованный балл по каждой работе школы), а у школы по этой работе есть только отчёты ФИС ОКО.'
            when thresholds.sign = 'above_own_works' and not exists (
                select 1 from stats as other_works
                where other_works.year = stats.year and other_works.login = stats.login
                    and other_works.work_code <> stats.work_code and other_works.mean_z is not null
            ) then 'у школы в этом году одна работа ВПР с результатами участников — не с чем сравнить.'
            else 'недостаточно данных.'
        end as detail,
        cast(null as {{ dbt.type_string() }}) as computed_from,
        thresholds.sign_name, thresholds.role, false as is_computable
    from stats
    inner join thresholds
        on stats.year between thresholds.year_from and thresholds.year_to and thresholds.sign <> 'jump_then_fall'
    where not exists (
        select 1 from computed
        where computed.year = stats.year and computed.login = stats.login and computed.work_code = stats.work_code
            and computed.sign = thresholds.sign
    )

),

tests as (

    select year, login, work_code, sign, n, estimate, ci_low, ci_high, reference, threshold, z_score, p_value,
        triggered, detail, computed_from, sign_name, role, is_computable
    from computed
    union all
    select year, login, work_code, sign, n, estimate, ci_low, ci_high, reference, threshold, z_score, p_value,
        triggered, detail, computed_from, sign_name, role, is_computable
    from not_computed

),

-- A standalone sign's rows in a school-year where its pooled evidence is a discovery: the works whose
-- deviation points the sign's way carry the flag.
standalone_flags as (

    select
        tests.year, tests.login, tests.work_code, tests.sign,
        tests.is_computable and evidence.is_discovery and tests.z_score > pooling.evidence_z as flagged,
        evidence.works as pooled_works,
        evidence.pooled_z,
        evidence.q_value,
        evidence.fdr_level
    from tests
    inner join evidence
        on tests.year = evidence.year and tests.login = evidence.login and tests.sign = evidence.sign
    inner join pooling
        on tests.year between pooling.year_from and pooling.year_to
    where tests.role = 'standalone'

),

-- Works of a school and year with a flagged standalone sign, and years in which the school jumped then
-- fell: either confirms «Результат выше региона».
confirmed_works as (

    select distinct year, login, work_code
    from standalone_flags
    where flagged and sign <> 'jump_then_fall'

),

jump_years as (

    select distinct year, login
    from standalone_flags
    where flagged and sign = 'jump_then_fall'

),

flags as (

    select
        tests.*,
        standalone_flags.pooled_works,
        standalone_flags.pooled_z,
        standalone_flags.q_value,
        standalone_flags.fdr_level,
        case when not tests.is_computable then false else case tests.role
            when 'standalone' then coalesce(standalone_flags.flagged, false)
            when 'needs_confirmation' then tests.triggered
                and (confirmed_works.work_code is not null or jump_years.login is not null)
            else false
        end end as flagged
    from tests
    left join standalone_flags
        on tests.year = standalone_flags.year and tests.login = standalone_flags.login
        and tests.work_code = standalone_flags.work_code and tests.sign = standalone_flags.sign
    left join confirmed_works
        on tests.year = confirmed_works.year and tests.login = confirmed_works.login
        and tests.work_code = confirmed_works.work_code
    left join jump_years
        on tests.year = jump_years.year and tests.login = jump_years.login

),

final as (

    select
        flags.year,
        flags.login,
        schools.short_name as school_name,
        schools.municipality,
        flags.work_code,
        flags.sign,
        flags.sign_name,
        flags.role,
        flags.n,
        flags.estimate,
        flags.ci_low,
        flags.ci_high,
        flags.reference,
        flags.threshold,
        flags.z_score,
        flags.p_value,
        flags.q_value,
        flags.triggered,
        flags.flagged,
        flags.is_computable,
        flags.computed_from,
        case when flags.flagged then coalesce(reviews.decision, 'на проверке') end as status,
        reviews.reviewer,
        reviews.decided_at,
        reviews.comment as review_comment,
        flags.detail || case
            when not flags.is_computable then ''
            when flags.flagged and flags.role = 'needs_confirmation' then ' Подтверждается другим признаком.'
            when flags.triggered and flags.role = 'needs_confirmation'
                then ' Высокий результат без других признаков не отмечается.'
            when flags.role = 'info' then ' Справочно: не признак завышения ВПР.'
            when flags.q_value is null then ''
            else ' По всем работам школы за год (' || flags.pooled_works || '): z = ' || {{ format_decimal_ru("flags.pooled_z") }}
                || ', q = ' || {{ format_fixed("flags.q_value", 4) }} || case
                    when flags.flagged then ' — признак выявлен (доля ложных обнаружений не выше '
                        || {{ format_percent("100 * flags.fdr_level") }} || ').'
                    when flags.q_value <= flags.fdr_level then ' — признак выявлен по школе, эта работа его не подтверждает.'
                    else ' — признак не выявлен.'
                end
        end as reason
    from flags
    left join reviews
        on flags.login = reviews.login and flags.year = reviews.year and flags.work_code = reviews.work_code
        and flags.sign = reviews.sign
    left join schools
        on flags.login = schools.login

)

select * from final
