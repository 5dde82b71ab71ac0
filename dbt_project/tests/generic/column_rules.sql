{#- The value rules of several columns of one model, tested by one node. `rules` maps a column to what its
    values must satisfy, as dbt's own tests and dbt_utils' would, nulls passing every rule but not_null:
      not_null: true                          not_null
      accepted_values: [...], quote: false    accepted_values (values quoted unless quote is false)
      min_value, max_value, inclusive: false  dbt_utils.accepted_range
    A dbt test costs about 45 ms of fixed work in dbt and three events in Dagster, far more than checking a
    column of these models, so the rules of a model that share their tags and severity are one test.
    Each failing row of the test is a column, a rule, a failing value and how many rows have it; the failure
    count is the number of failing rows of the model. -#}
{% test column_rules(model, rules) %}
{{ config(fail_calc='coalesce(sum(failing_rows), 0)') }}
{%- set failing = [] -%}
{%- for column, rule in rules.items() -%}
    {%- if rule.get('not_null') -%}
        {%- do failing.append((column, 'not_null', column ~ ' is null')) -%}
    {%- endif -%}
    {%- if rule.get('accepted_values') is not none -%}
        {%- set quoted = rule.get('quote', true) -%}
        {%- set values = [] -%}
        {%- for value in rule['accepted_values'] -%}
            {%- do values.append(dbt.string_literal(value) if quoted else value | string) -%}
        {%- endfor -%}
        {%- do failing.append((column, 'accepted_values', column ~ ' not in (' ~ values | join(', ') ~ ')')) -%}
    {%- endif -%}
    {%- set bounds = [] -%}
    {%- set strict = rule.get('inclusive', true) is false -%}
    {%- if rule.get('min_value') is not none -%}
        {%- do bounds.append(column ~ (' > ' if strict else ' >= ') ~ rule['min_value']) -%}
    {%- endif -%}
    {%- if rule.get('max_value') is not none -%}
        {%- do bounds.append(column ~ (' < ' if strict else ' <= ') ~ rule['max_value']) -%}
    {%- endif -%}
    {%- if bounds -%}
        {%- do failing.append((column, 'accepted_range', 'not (' ~ bounds | join(' and ') ~ ')')) -%}
    {%- endif -%}
{%- endfor %}
{%- for column, kind, condition in failing %}
select
    '{{ column }}' as column_name,
    '{{ kind }}' as rule,
    cast({{ column }} as {{ dbt.type_string() }}) as failing_value,
    count(*) as failing_rows
from {{ model }}
where {{ condition }}
group by cast({{ column }} as {{ dbt.type_string() }})
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
