{#- The official values of the ФИС ОКО reports for the whole sample (Вся выборка), regions and
    municipalities, as the reports give them: reference values beside the ones pooled from schools
    (int_area_work_results), never recomputed. One row per area × year × work × report × measure. -#}
select
    year,
    work_code,
    report,
    group_level as area_level,
    group_name as area_name,
    region_code,
    municipality_code,
    schools,
    participants,
    measure,
    measure_value,
    percent,
    pupils,
    source_file,
    source_row_number
from {{ ref('stg_vpr_report_counts') }}
where group_level <> 'school'
