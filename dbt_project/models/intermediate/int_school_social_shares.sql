{#- The social passport in long form: one row per school × year × component with its count and
    denominator (students_total), plus rural_settlement from the registry (1 of 1 for a village school).
    Shares are always recomputed from counts, never taken from the share columns the schools fill in. -#}
with

passport as (

    select * from {{ ref('stg_social_passport') }}

),

schools as (

    select login, settlement_type from {{ ref('stg_schools') }}

),

{%- set count_columns = ['students_disabled_health', 'children_with_disability', 'on_school_register',
                         'on_police_register', 'large_families', 'single_parent_families',
                         'both_parents_higher_ed', 'one_parent_higher_ed', 'both_parents_unemployed',
                         'non_native_russian', 'school_bus', 'low_income_families'] %}

unpivoted as (

    {%- for column in count_columns %}
    select
        login,
        year,
        '{{ column }}' as component,
        {{ column }} as student_count,
        students_total
    from passport
    union all
    {%- endfor %}
    select
        passport.login,
        passport.year,
        'rural_settlement' as component,
        case when schools.settlement_type = 'село' then 1 else 0 end as student_count,
        1 as students_total
    from passport
    inner join schools
        on passport.login = schools.login

),

final as (

    select
        login,
        {{ region_code_from_login('login') }} as region_code,
        year,
        component,
        student_count,
        students_total,
        {{ dbt.cast('student_count', type_double()) }} / nullif(students_total, 0) as share
    from unpivoted

)

select * from final
