{{ config(tags=['config'], meta={'dagster': {'ref': {'name': 'shnor_rule_sets'}}}) }}
-- depends_on: {{ ref('shnor_rule_sets') }} (the seed these vars override: its check in Dagster)
-- The combination vars, when given, are valid: any, all or min_n (with a positive min_criteria).
select
    '{{ var("shnor_combination", none) }}' as shnor_combination,
    '{{ var("shnor_min_criteria", none) }}' as shnor_min_criteria
where
{%- if var('shnor_combination', none) %}
    '{{ var("shnor_combination") }}' not in ('any', 'all', 'min_n')
{%- else %}
    1 = 0
{%- endif %}
{%- if var('shnor_min_criteria', none) is not none %}
    or {{ var('shnor_min_criteria') }} < 1
{%- endif %}
