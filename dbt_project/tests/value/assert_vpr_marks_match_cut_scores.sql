{{ config(tags=['value'], severity='warn') }}
-- The ВПР mark in the form follows the work's cut scores of the year (seed vpr_works).
select
    vpr.year,
    vpr.login,
    vpr.work_code,
    count(*) as rows_affected
from {{ ref('stg_vpr_results') }} as vpr
inner join {{ ref('vpr_works') }} as works
    on vpr.work_code = works.work_code
    and vpr.year between works.year_from and works.year_to
where vpr.mark is not null
  and vpr.primary_score is not null
  and vpr.mark <> case
        when vpr.primary_score >= works.cut_5 then 5
        when vpr.primary_score >= works.cut_4 then 4
        when vpr.primary_score >= works.cut_3 then 3
        else 2
    end
group by vpr.year, vpr.login, vpr.work_code
