{#- ИСБШ (индекс социального благополучия школы), one row per school × year: the weighted mean of the
    signed, capped component z-scores (int_school_isbsh_components), standardised within region × year
    (mean 0, sd 1; higher is better-off). Components a school did not report are left out of its
    weighted mean; components_used says how many were used. -#}
with

components as (

    select * from {{ ref('int_school_isbsh_components') }}

),

composites as (

    select
        login,
        region_code,
        year,
        count(component_z) as components_used,
        sum(case when component_z is not null then weight end) as weight_total,
        sum(contribution) / nullif(sum(case when component_z is not null then weight end), 0) as composite
    from components
    group by login, region_code, year

),

standardised as (

    select
        composites.*,
        (composite - avg(composite) over (partition by region_code, year))
            / nullif(stddev_samp(composite) over (partition by region_code, year), 0) as isbsh
    from composites

),

formulas as (

    select
        region_code,
        year,
        {{ dbt.listagg(
            "case when sign > 0 then '+' else '−' end || " ~ format_number_ru('weight') ~ " || '·z(' || component_name || ')'",
            "' '", "order by component") }} as isbsh_formula
    from (
        select distinct region_code, year, component, component_name, sign, weight
        from components
    ) as distinct_components
    group by region_code, year

),

final as (

    select
        standardised.login,
        standardised.region_code,
        standardised.year,
        standardised.components_used,
        standardised.weight_total,
        standardised.composite,
        standardised.isbsh,
        formulas.isbsh_formula
    from standardised
    left join formulas
        on standardised.region_code = formulas.region_code
        and standardised.year = formulas.year

)

select * from final
