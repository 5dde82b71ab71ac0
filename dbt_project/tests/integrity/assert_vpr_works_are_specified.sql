{{ config(tags=['integrity'], severity='warn', meta={'dagster': {'ref': {'name': 'stg_vpr_results'}}}) }}
-- Every ВПР work and year in the results has a specification (seed vpr_works): maximum and cut scores.
select distinct vpr.year, vpr.work_code
from {{ ref('stg_vpr_results') }} as vpr
left join {{ ref('vpr_works') }} as works
    on vpr.work_code = works.work_code
    and vpr.year between works.year_from and works.year_to
where works.work_code is null
