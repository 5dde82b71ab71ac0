{#- Components of ИСБШ (индекс социального благополучия школы), one row per school × year × component: each
    component share is z-scored within region × year, capped at ±3 so that one extreme school (e.g. a
    special school with 95 % ОВЗ) does not dominate, signed and weighted (seed isbsh_components). The
    index (int_school_isbsh) is the weighted mean of the signed z-scores, standardised again. -#}
with

shares as (

    select * from {{ ref('int_school_social_shares') }}

),

components as (

    select component, component_name, sign, weight, year_from, year_to
    from {{ rule_rows('isbsh_components') }} as selected_rows

),

selected as (

    select
        shares.login,
        shares.region_code,
        shares.year,
        shares.component,
        components.component_name,
        components.sign,
        {{ dbt.cast('components.weight', type_double()) }} as weight,
        shares.student_count,
        shares.students_total,
        shares.share
    from shares
    inner join components
        on shares.component = components.component
        and shares.year between components.year_from and components.year_to

),

standardised as (

    select
        selected.*,
        (share - avg(share) over (partition by region_code, year, component))
            / nullif(stddev_samp(share) over (partition by region_code, year, component), 0) as raw_z
    from selected

),

capped as (

    select
        standardised.*,
        case
            when share is null then null
            when raw_z is null then 0.0
            when raw_z > 3 then 3.0
            when raw_z < -3 then -3.0
            else raw_z
        end as component_z
    from standardised

),

final as (

    select
        capped.*,
        sign * component_z as signed_z,
        weight * sign * component_z as contribution
    from capped

)

select * from final
