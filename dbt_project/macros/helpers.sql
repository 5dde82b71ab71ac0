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
        when round({{ decimal_9(expression) }}, 1) = round({{ decimal_9(expression) }}, 0)
            then {{ format_fixed(expression, 0) }}
        else replace({{ format_fixed(expression, 1) }}, '.', ',')
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

{#- numerator / denominator as a double, null when the denominator is zero: PostgreSQL divides integers
    with truncation, DuckDB does not, so counts are cast before they are divided. -#}
{% macro ratio(numerator, denominator) -%}
    ({{ dbt.cast(numerator, type_double()) }} / nullif({{ denominator }}, 0))
{%- endmacro %}

{#- A percentage as text rounded to a whole number, '34 %', for reasons written in Russian. -#}
{% macro format_percent(expression) -%}
    {{ format_fixed(expression, 0) }} || ' %'
{%- endmacro %}

{#- A number as text with two decimals and a decimal comma, '-0,52', for reasons written in Russian. -#}
{% macro format_decimal_ru(expression) -%}
    replace({{ format_fixed(expression, 2) }}, '.', ',')
{%- endmacro %}

{#- A number as text with a fixed number of decimals, rounded half away from zero in every target
    ('0.50', '63'). -#}
{% macro format_fixed(expression, decimals) -%}
    {{ dbt.cast('round(' ~ decimal_9(expression) ~ ', ' ~ decimals ~ ')', dbt.type_string()) }}
{%- endmacro %}

{#- A floating-point value as a decimal with 9 places, to round, format or rank by. Sums taken in another
    order differ in the last bits: unrounded, two engines would order schools with the same mean
    differently. A bare `numeric` would not do: it means 3 decimal places in DuckDB. -#}
{% macro decimal_9(expression) -%}
    cast({{ expression }} as decimal(38, 9))
{%- endmacro %}

{#- A school's login as the registry knows it: a confirmed earlier login (raw.login_aliases, e.g.
    'sch220122' → 'edu220122') becomes the registry's login, so the school is one school across years.
    `aliases` is the model's import CTE of source('raw', 'login_aliases'). -#}
{% macro canonical_login(login, aliases='login_aliases') -%}
    coalesce(
        (select {{ aliases }}.login from {{ aliases }} where {{ aliases }}.alias_login = lower(trim({{ login }}))),
        lower(trim({{ login }}))
    )
{%- endmacro %}

{#- The sum of a participant's list of task values (`values`: scores or maxima) at the task positions of
    `positions` (1-based), a missing value counting as `missing` (NULL: left out of the sum) and a position
    past the end of the list left out. DuckDB sums the list in place with a lambda; unnesting every
    participant's tasks to rows and grouping them back cost the federal year's 21 million participants
    over a minute. Other targets sum over the unnested positions. -#}
{% macro sum_at_positions(positions, values, missing='null') -%}
    {{ return(adapter.dispatch('sum_at_positions')(positions, values, missing)) }}
{%- endmacro %}

{% macro duckdb__sum_at_positions(positions, values, missing) -%}
    list_sum(list_transform({{ positions }}, lambda i: case when i <= len({{ values }}) then coalesce({{ values }}[i], {{ missing }}) end))
{%- endmacro %}

{% macro default__sum_at_positions(positions, values, missing) -%}
    (select sum(case when i <= cardinality({{ values }}) then coalesce({{ values }}[i], {{ missing }}) end) from unnest({{ positions }}) as task_positions (i))
{%- endmacro %}
