{#- The region code of a school, read from its ФИС ОКО login: the two digits after the three-letter
    prefix ('sch470123' → '47', 'edu053001' → '05'). The registry carries no region column. -#}
{% macro region_code_from_login(login) -%}
    substring({{ login }}, 4, 2)
{%- endmacro %}

{#- A share as a Russian-formatted number: one decimal with a comma, or an integer when it is whole
    (34 → '34', 33.333 → '33,3'). -#}
{% macro format_number_ru(expression) -%}
    case
        when {{ expression }} is null then null
        when round({{ dbt.cast(expression, 'numeric') }}, 1) = round({{ dbt.cast(expression, 'numeric') }}, 0)
            then {{ dbt.cast('cast(round(' ~ dbt.cast(expression, 'numeric') ~ ', 0) as integer)', dbt.type_string()) }}
        else replace({{ dbt.cast('round(' ~ dbt.cast(expression, 'numeric') ~ ', 1)', dbt.type_string()) }}, '.', ',')
    end
{%- endmacro %}

{#- Share in percent, null when the denominator is zero. -#}
{% macro pct(numerator, denominator) -%}
    (100.0 * ({{ numerator }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- 1 when a condition holds, else 0: for portable conditional counts. -#}
{% macro count_if(condition) -%}
    cast(sum(case when {{ condition }} then 1 else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- Double-precision floating point in every target: dbt.type_float() is single precision in DuckDB. -#}
{% macro type_double() -%}
    double precision
{%- endmacro %}
