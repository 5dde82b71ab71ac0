{#- Rules are configuration: seeds in schema `rules`, one row per rule set, region and campaign-year range.
    The dbt vars `rule_set` (default 'fioko') and `region` (default '*', every region) select the rows. -#}

{#- The rows of a rule seed that apply to the selected rule set and region.
    A row for the selected region replaces the default rows (region_code '*') with the same key columns;
    with no key columns, any row for the region replaces the whole default set of the rule set. -#}
{% macro rule_rows(seed_name, key_columns=[]) -%}
(
    select rule_row.*
    from {{ ref(seed_name) }} as rule_row
    where rule_row.rule_set = '{{ var("rule_set") }}'
      and (
          rule_row.region_code = '{{ var("region") }}'
          or (
              rule_row.region_code = '*'
              and not exists (
                  select 1
                  from {{ ref(seed_name) }} as region_row
                  where region_row.rule_set = rule_row.rule_set
                    and region_row.region_code = '{{ var("region") }}'
                    {%- for key in key_columns %}
                    and region_row.{{ key }} = rule_row.{{ key }}
                    {%- endfor %}
              )
          )
      )
)
{%- endmacro %}

{#- Numeric rule parameters (seed rule_parameters.csv) pivoted to one column each by int_rules_by_year. -#}
{% macro rule_parameter_names() -%}
    {{ return([
        'low_result_threshold_pct',
        'min_participants_publication',
        'level_strong_min_low_works_prev_year',
        'shnsu_bottom_share_pct',
        'resilient_isbsh_bottom_share_pct',
        'resilient_z_critical',
        'resilient_min_years',
        'resilient_window_years',
        'vpr_coping_min_mark',
        'ege_high_score_min',
    ]) }}
{%- endmacro %}

{#- A value of `rule_overrides` (a dict var) for a parameter, or none. -#}
{% macro rule_override(parameter) -%}
    {%- set overrides = var('rule_overrides', {}) or {} -%}
    {{ return(overrides.get(parameter)) }}
{%- endmacro %}

{#- The ВПР mark a primary score earns by a work's conversion scale (a row of the seed vpr_works). -#}
{% macro vpr_mark_from_scale(score, works) -%}
    case
        when {{ score }} is null or {{ works }}.cut_3 is null then null
        when {{ score }} >= {{ works }}.cut_5 then 5
        when {{ score }} >= {{ works }}.cut_4 then 4
        when {{ score }} >= {{ works }}.cut_3 then 3
        else 2
    end
{%- endmacro %}
