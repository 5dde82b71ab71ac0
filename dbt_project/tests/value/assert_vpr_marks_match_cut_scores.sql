{{ config(tags=['value'], severity='warn', meta={'dagster': {'ref': {'name': 'stg_vpr_results'}}}) }}
-- A ВПР mark the file carries (report Ф1, archives) follows the work's cut scores of the year (seed vpr_works).
select
    vpr.year,
    vpr.login,
    vpr.work_code,
    count(*) as rows_affected
from {{ ref('stg_vpr_results') }} as vpr
inner join {{ ref('vpr_works') }} as works
    on vpr.work_code = works.work_code
    and vpr.year between works.year_from and works.year_to
where vpr.mark_in_file <> {{ vpr_mark_from_scale('vpr.primary_score', 'works') }}
group by vpr.year, vpr.login, vpr.work_code
