{#- The components of ИСБШ per school × year (составляющие ИСБШ): share of students, z-score within
    region × year, sign, weight and contribution — the published weights beside the index. -#}
with

components as (

    select * from {{ ref('int_school_isbsh_components') }}

),

schools as (

    select login, short_name, municipality from {{ ref('stg_schools') }}

),

final as (

    select
        components.login,
        schools.short_name as school_name,
        schools.municipality,
        components.region_code,
        components.year,
        components.component,
        components.component_name,
        components.sign,
        components.weight,
        components.student_count,
        components.students_total,
        100.0 * components.share as share_pct,
        components.component_z,
        components.contribution,
        '{{ var("rule_set") }}' as rule_set
    from components
    left join schools
        on components.login = schools.login

)

select * from final
