{{ config(tags=['config'], meta={'dagster': {'ref': {'name': 'rule_parameters'}}}) }}
-- The selected rule set (var rule_set) and region have rows in every rule seed: a typo in --vars
-- would otherwise silently produce empty flags.
with

seeds as (

    select 'rule_parameters' as seed_name, count(*) as selected_rows from {{ rule_rows('rule_parameters', ['parameter']) }} as r
    union all
    select 'shnor_rule_sets', count(*) from {{ rule_rows('shnor_rule_sets') }} as r
    union all
    select 'shnor_criteria', count(*) from {{ rule_rows('shnor_criteria', ['criterion']) }} as r
    union all
    select 'shnor_works', count(*) from {{ rule_rows('shnor_works') }} as r
    union all
    select 'isbsh_components', count(*) from {{ rule_rows('isbsh_components') }} as r
    union all
    select 'program_targets', count(*) from {{ rule_rows('program_targets', ['indicator_code']) }} as r

)

select
    seed_name,
    '{{ var("rule_set") }}' as rule_set,
    '{{ var("region") }}' as region
from seeds
where selected_rows = 0
