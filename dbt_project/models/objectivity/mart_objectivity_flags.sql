-- Signs of non-objective ВПР results, one row per school × year × work × sign tested, with the estimate,
-- its interval, the threshold, whether the school is flagged and why (in Russian), and the review status.
--
-- Combination rule: a standalone sign flags on its own; «Результат выше региона» flags only when another
-- sign of the same work, or a jump-then-fall of the school that year, confirms it, so lyceums, gymnasiums
-- and schools in favourable conditions are not flagged for being good; informational signs never flag.
with tests as (
    select t.*, th.sign_name, th.role
    from {{ ref('obj_sign_tests') }} as t
    join {{ ref('objectivity_thresholds') }} as th
        on th.sign = t.sign and t.year between th.year_from and th.year_to
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
        case t.role
            when 'standalone' then t.triggered
            when 'needs_confirmation' then t.triggered
                and (c.work_code is not null or j.login is not null)
            else false
        end as flagged
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
    case when f.flagged then coalesce(r.decision, 'на проверке') end as status,
    r.reviewer,
    r.decided_at,
    r.comment as review_comment,
    f.detail || case
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
