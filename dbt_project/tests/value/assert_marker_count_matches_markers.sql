{{ config(tags=['value'], severity='warn') }}
-- «Количество маркеров» equals the sum of the school's marker columns (empty cells count as nothing).
select
    year,
    login,
    max(marker_count) as marker_count,
    sum(coalesce(marker, 0)) as markers_in_columns
from {{ ref('stg_fioko_objectivity_markers') }}
group by year, login
having max(marker_count) <> sum(coalesce(marker, 0))
