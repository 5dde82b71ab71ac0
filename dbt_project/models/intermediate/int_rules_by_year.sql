{#- One row per campaign year with every numeric rule parameter of the selected rule set and region as a
    column. Years: every year present in the inputs, and the year after each (the next ШНОР list). -#}
with

years_in_data as (

    select distinct year from {{ ref('stg_vpr_results') }}
    union
    select distinct year from {{ ref('stg_vpr_report_counts') }}
    union
    select distinct year from {{ ref('stg_gia_results') }}
    union
    select distinct year from {{ ref('stg_social_passport') }}
    union
    select distinct year from {{ ref('stg_fioko_objectivity_markers') }}
    union
    select distinct year from {{ ref('stg_fioko_risk_profiles') }}
    union
    select distinct list_year as year from {{ ref('stg_fioko_shnor') }}

),

years as (

    select year from years_in_data
    union
    select year + 1 as year from years_in_data

),

parameters as (

    select
        parameter,
        year_from,
        year_to,
        {{ dbt.cast('value', type_double()) }} as value
    from {{ rule_rows('rule_parameters', ['parameter']) }} as selected_rows

),

pivoted as (

    select
        years.year,
        '{{ var("rule_set") }}' as rule_set,
        '{{ var("region") }}' as region_code,
        {%- for name in rule_parameter_names() %}
        {%- set override = rule_override(name) %}
        {%- if override is not none %}
        {{ dbt.cast(override, type_double()) }} as {{ name }}{{ ',' if not loop.last }}
        {%- else %}
        max(case when parameters.parameter = '{{ name }}' then parameters.value end) as {{ name }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from years
    left join parameters
        on years.year between parameters.year_from and parameters.year_to
    group by years.year

)

select * from pivoted
