{#- The standard normal upper tail P(Z > z), for the p-values of the objectivity signs. Neither DuckDB nor
    PostgreSQL has the normal distribution function, so it is the Zelen & Severo (1964) approximation
    (Abramowitz & Stegun 26.2.17, absolute error below 7.5e-8), written once for both targets. `z` should
    be a column or a simple expression: it is repeated. -#}
{% macro normal_upper_tail(z) -%}
    {%- set a = 'abs(' ~ z ~ ')' -%}
    {%- set t = '(1.0 / (1.0 + 0.2316419 * ' ~ a ~ '))' -%}
    {%- set tail = '(0.3989422804014327 * exp(-0.5 * ' ~ a ~ ' * ' ~ a ~ ') * ' ~ t ~ ' * (0.319381530 + '
        ~ t ~ ' * (-0.356563782 + ' ~ t ~ ' * (1.781477937 + ' ~ t ~ ' * (-1.821255978 + ' ~ t ~ ' * 1.330274429)))))' -%}
    (case when {{ z }} is null then null when {{ z }} >= 0 then {{ tail }} else 1.0 - {{ tail }} end)
{%- endmacro %}

{#- The standard normal quantile Φ⁻¹(p), for the normal scores of primary scores in the heaping sign:
    Abramowitz & Stegun 26.2.23 (absolute error below 4.5e-4), p kept within [1e-10, 1 − 1e-10] so the
    bottom and top of a scale map to ±6.4 rather than infinity. `p` should be a column or a simple
    expression: it is repeated. -#}
{% macro normal_quantile(p) -%}
    {%- set q = 'least(greatest(' ~ p ~ ', 1e-10), 1 - 1e-10)' -%}
    {%- set t = 'sqrt(-2 * ln(least(' ~ q ~ ', 1 - ' ~ q ~ ')))' -%}
    (case when {{ p }} is null then null else sign({{ q }} - 0.5) * (
        {{ t }} - (2.515517 + 0.802853 * {{ t }} + 0.010328 * {{ t }} * {{ t }})
        / (1 + 1.432788 * {{ t }} + 0.189269 * {{ t }} * {{ t }} + 0.001308 * {{ t }} * {{ t }} * {{ t }})
    ) end)
{%- endmacro %}

{#- The median of an expression over the group, in both targets (an ordered-set aggregate). -#}
{% macro median_of(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{#- The robust centre and spread of `value` per group: the median and 1.4826 × the median absolute
    deviation from it (the standard deviation for a normal sample, unmoved by a few manipulated schools).
    `relation` is a CTE or a parenthesised subquery; `group_by` lists the group's columns; `medians` adds
    named medians of other expressions of the group. A query, for the body of a CTE. -#}
{% macro robust_spread(relation, value, group_by, medians={}) -%}
    {%- set joined = [] -%}
    {%- for key in group_by %}{% do joined.append('measured.' ~ key ~ ' = centres.' ~ key) %}{% endfor -%}
    select centres.{{ group_by | join(', centres.') }}, centres.centre,
        {%- for name in medians %} centres.{{ name }},{% endfor %}
        1.4826 * {{ median_of('abs(measured.' ~ value ~ ' - centres.centre)') }} as spread
    from {{ relation }} as measured
    inner join (
        select {{ group_by | join(', ') }}, {{ median_of(value) }} as centre
            {%- for name, expression in medians.items() %}, {{ median_of(expression) }} as {{ name }}{% endfor %}
        from {{ relation }} as grouped
        group by {{ group_by | join(', ') }}
    ) as centres
        on {{ joined | join(' and ') }}
    group by centres.{{ group_by | join(', centres.') }}, centres.centre
        {%- for name in medians %}, centres.{{ name }}{% endfor %}
{%- endmacro %}

{#- The correlation ρ between a school's evidence units, from the spread of their weighted Stouffer sums
    among the region's schools: Var = 1 + ρ·shared_pairs, so ρ = (spread² − 1) / median(shared_pairs),
    floored at 0 (a school with one unit, shared_pairs 0 up to rounding, carries no information on ρ).
    `relation` has `stouffer_z` and `shared_pairs` per school; `group_by` lists the columns the correlation
    is estimated per. -#}
{% macro within_school_correlation(relation, group_by) -%}
    select {{ group_by | join(', ') }},
        case when median_shared_pairs > 0 then greatest(0, (spread ^ 2 - 1) / median_shared_pairs) else 0 end
            as within_school_correlation
    from (
        {{ robust_spread(
            '(select * from ' ~ relation ~ ' where shared_pairs > 1e-6)', 'stouffer_z', group_by,
            {'median_shared_pairs': 'shared_pairs'}
        ) }}
    ) as spreads
{%- endmacro %}
