-- Signs of non-objective ВПР results, one row per school × year × work × sign tested, with the estimate,
-- its interval, the threshold, whether the school is flagged and why (in Russian), and the review status.
--
-- Combination rule: a standalone sign flags on its own; «Результат выше региона» flags only when another
-- sign of the same work, or a jump-then-fall of the school that year, confirms it, so lyceums, gymnasiums
-- and schools in favourable conditions are not flagged for being good; informational signs never flag.
--
-- Every per-work sign has a row for every school × year × work assessed: `computed_from` records the level
-- of detail it was computed from (participant_rows, mark_statistics, journal_comparison,
-- score_distribution; docs/levels_of_detail.md), and a sign the school's data cannot give is a row with
-- is_computable = false and the reason, not a silent absence.
with computed as (
    select t.*, th.sign_name, th.role, true as is_computable
    from {{ ref('obj_sign_tests') }} as t
    join {{ ref('objectivity_thresholds') }} as th
        on th.sign = t.sign and t.year between th.year_from and th.year_to
),

stats as (
    select * from {{ ref('obj_work_stats') }}
),

not_computed as (
    select
        s.year, s.login, s.work_code, th.sign,
        cast(null as {{ dbt.type_bigint() }}) as n,
        cast(null as {{ type_double() }}) as estimate,
        cast(null as {{ type_double() }}) as ci_low,
        cast(null as {{ type_double() }}) as ci_high,
        cast(null as {{ type_double() }}) as reference,
        cast(null as {{ type_double() }}) as threshold,
        cast(null as boolean) as triggered,
        'Не вычисляется: ' || case
            when th.sign = 'level_above_region' and s.marks_from is null
                then 'нет распределения отметок (нет ни строк участников, ни отчёта «Статистика по отметкам»).'
            when th.sign in ('vpr_above_journal', 'journal_above_vpr') and s.journal_from is null
                then 'нет сравнения с отметками по журналу (нет ни строк участников, ни отчёта «Сравнение отметок с отметками по журналу»).'
            when th.sign in ('vpr_above_journal', 'journal_above_vpr')
                then 'нет участников с отметкой по журналу.'
            when th.sign = 'heaping_at_cuts' and s.scores_from is null
                then 'нет распределения первичных баллов (нет ни строк участников, ни отчёта «Распределение первичных баллов»).'
            when th.sign = 'heaping_at_cuts' then 'нет участников у границ отметок «3» и «4».'
            when th.sign in ('task_inversion', 'not_confirmed_by_gia') and s.mean_z is null
                then 'признак вычисляется только по строкам участников, а у школы по этой работе есть только отчёты ФИС ОКО.'
            when th.sign = 'task_inversion' then 'недостаточно участников с баллами за задания.'
            when th.sign = 'not_confirmed_by_gia' then 'нет результатов ОГЭ школы по предмету.'
            else 'недостаточно данных.'
        end as detail,
        cast(null as {{ dbt.type_string() }}) as computed_from,
        th.sign_name, th.role, false as is_computable
    from stats as s
    join {{ ref('objectivity_thresholds') }} as th
        on s.year between th.year_from and th.year_to and th.sign <> 'jump_then_fall'
    where not exists (
        select 1 from computed as c
        where c.year = s.year and c.login = s.login and c.work_code = s.work_code and c.sign = th.sign
    )
),

tests as (
    select year, login, work_code, sign, n, estimate, ci_low, ci_high, reference, threshold, triggered, detail,
        computed_from, sign_name, role, is_computable
    from computed
    union all
    select year, login, work_code, sign, n, estimate, ci_low, ci_high, reference, threshold, triggered, detail,
        computed_from, sign_name, role, is_computable
    from not_computed
),

-- Works of a school and year with a triggered standalone sign, and years in which the school jumped
-- then fell: either confirms «Результат выше региона».
confirmed_works as (
    select distinct year, login, work_code
    from tests
    where role = 'standalone' and triggered and sign <> 'jump_then_fall'
),

jump_years as (
    select distinct year, login
    from tests
    where role = 'standalone' and triggered and sign = 'jump_then_fall'
),

flags as (
    select
        t.*,
        case when not t.is_computable then false else case t.role
            when 'standalone' then t.triggered
            when 'needs_confirmation' then t.triggered
                and (c.work_code is not null or j.login is not null)
            else false
        end end as flagged
    from tests as t
    left join confirmed_works as c on c.year = t.year and c.login = t.login and c.work_code = t.work_code
    left join jump_years as j on j.year = t.year and j.login = t.login
)

select
    f.year,
    f.login,
    sch.short_name as school_name,
    sch.municipality,
    f.work_code,
    f.sign,
    f.sign_name,
    f.role,
    f.n,
    f.estimate,
    f.ci_low,
    f.ci_high,
    f.reference,
    f.threshold,
    f.triggered,
    f.flagged,
    f.is_computable,
    f.computed_from,
    case when f.flagged then coalesce(r.decision, 'на проверке') end as status,
    r.reviewer,
    r.decided_at,
    r.comment as review_comment,
    f.detail || case
        when not f.is_computable then ''
        when f.flagged and f.role = 'needs_confirmation' then ' Подтверждается другим признаком.'
        when f.triggered and f.role = 'needs_confirmation'
            then ' Высокий результат без других признаков не отмечается.'
        when f.role = 'info' then ' Справочно: не признак завышения ВПР.'
        when not f.triggered then ' Признак не выявлен.'
        else ''
    end as reason
from flags as f
left join {{ ref('obj_reviews') }} as r
    on r.login = f.login and r.year = f.year and r.work_code = f.work_code and r.sign = f.sign
left join {{ ref('stg_schools') }} as sch on sch.login = f.login
