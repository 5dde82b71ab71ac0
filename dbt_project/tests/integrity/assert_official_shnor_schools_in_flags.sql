{{ config(tags=['integrity'], meta={'dagster': {'ref': {'name': 'mart_school_flags'}}}) }}
-- Every school on an official FIOKO list appears in mart_school_flags for that year.
select official.list_year, official.login
from {{ ref('stg_fioko_shnor') }} as official
left join {{ ref('mart_school_flags') }} as flags
    on official.login = flags.login
    and official.list_year = flags.year
where flags.login is null or not coalesce(flags.is_shnor_official, false)
