{#- Municipality and region totals per year × work, pooling participants (not averaging schools): the
    values shown beside each school's indicators and the regional means some criteria compare with. -#}
with

school_results as (

    select * from {{ ref('int_school_work_results') }}

),

schools as (

    select login, municipality from {{ ref('stg_schools') }}

),

located as (

    select
        school_results.*,
        coalesce(schools.municipality, '(нет в реестре)') as municipality
    from school_results
    left join schools
        on school_results.login = schools.login

),

{%- set measures = ['participants', 'fail_count', 'pass_count', 'quality_count', 'mark_5_count', 'mark_sum', 'mark_count',
                    'primary_score_sum', 'primary_score_count', 'test_score_sum', 'test_score_count',
                    'high_scorer_count', 'score_100_sum', 'score_100_count'] %}

by_municipality as (

    select
        'municipality' as area_level,
        region_code,
        municipality,
        year,
        work_label,
        count(distinct login) as schools,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from located
    group by region_code, municipality, year, work_label

),

by_region as (

    select
        'region' as area_level,
        region_code,
        cast(null as {{ dbt.type_string() }}) as municipality,
        year,
        work_label,
        count(distinct login) as schools,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from located
    group by region_code, year, work_label

),

unioned as (

    select * from by_municipality
    union all
    select * from by_region

)

select * from unioned
