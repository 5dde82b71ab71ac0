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

{#- The median of an expression over the group, in both targets (an ordered-set aggregate). -#}
{% macro median_of(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}
