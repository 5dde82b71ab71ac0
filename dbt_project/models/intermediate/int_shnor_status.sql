{#- The computed ШНОР status of each school for list year Y under the selected rule set: criteria met,
    combined as the rule set says (any / all / min_n, seed shnor_rule_sets, overridable with the vars
    shnor_combination and shnor_min_criteria), the works and years that triggered it, a reason in
    Russian and a local level of results.

    Local level (FIOKO does not publish its rule; documented here and in the mart):
      «Сильно неуспевающие»   — both FIOKO criteria hold, or at least level_strong_min_low_works_prev_year
                                (3) works counted for ШНОР were low in Y−1;
      «Умеренно неуспевающие» — only two_works_prev_year holds;
      «Базово неуспевающие»   — any other ШНОР school (only works_in_two_years, or criteria of other rule sets). -#}
with

low_work_criteria as (

    select * from {{ ref('int_shnor_low_work_criteria') }}

),

result_criteria as (

    select * from {{ ref('int_shnor_result_criteria') }}

),

rules as (

    select year, level_strong_min_low_works_prev_year from {{ ref('int_rules_by_year') }}

),

rule_sets as (

    select combination, min_criteria, year_from, year_to
    from {{ rule_rows('shnor_rule_sets') }} as selected_rows

),

joined as (

    select
        low_work_criteria.*,
        coalesce(result_criteria.bottom_results_enabled, false) as bottom_results_enabled,
        coalesce(result_criteria.bottom_results_met, false) as bottom_results_met,
        result_criteria.bottom_results_reason,
        coalesce(result_criteria.low_knowledge_quality_enabled, false) as low_knowledge_quality_enabled,
        coalesce(result_criteria.low_knowledge_quality_met, false) as low_knowledge_quality_met,
        result_criteria.low_knowledge_quality_evidence,
        result_criteria.low_knowledge_quality_reason,
        coalesce(result_criteria.below_region_average_enabled, false) as below_region_average_enabled,
        coalesce(result_criteria.below_region_average_met, false) as below_region_average_met,
        result_criteria.below_region_average_reason,
        {%- if var('shnor_combination', none) %}
        '{{ var("shnor_combination") }}' as combination,
        {%- else %}
        rule_sets.combination,
        {%- endif %}
        {%- if var('shnor_min_criteria', none) is not none %}
        {{ var('shnor_min_criteria') }} as min_criteria,
        {%- else %}
        rule_sets.min_criteria,
        {%- endif %}
        rules.level_strong_min_low_works_prev_year
    from low_work_criteria
    left join result_criteria
        on low_work_criteria.login = result_criteria.login
        and low_work_criteria.list_year = result_criteria.list_year
    left join rule_sets
        on low_work_criteria.list_year between rule_sets.year_from and rule_sets.year_to
    left join rules
        on low_work_criteria.list_year = rules.year

),

{%- set criteria = ['two_works_prev_year', 'works_in_two_years', 'bottom_results', 'low_knowledge_quality', 'below_region_average'] %}

counted as (

    select
        joined.*,
        {%- for criterion in criteria %}
        case when {{ criterion }}_enabled then 1 else 0 end{{ ' +' if not loop.last }}
        {%- endfor %} as criteria_enabled,
        {%- for criterion in criteria %}
        case when {{ criterion }}_enabled and {{ criterion }}_met then 1 else 0 end{{ ' +' if not loop.last }}
        {%- endfor %} as criteria_met_count,
        concat_ws('+',
            {%- for criterion in criteria %}
            case when {{ criterion }}_enabled and {{ criterion }}_met then '{{ criterion }}' end{{ ',' if not loop.last }}
            {%- endfor %}
        ) as criteria_met
    from joined

),

decided as (

    select
        counted.*,
        case combination
            when 'any' then criteria_met_count >= 1
            when 'all' then criteria_enabled > 0 and criteria_met_count = criteria_enabled
            when 'min_n' then criteria_met_count >= coalesce(min_criteria, 1)
            else false
        end as is_shnor
    from counted

),

final as (

    select
        login,
        list_year,
        '{{ var("rule_set") }}' as rule_set,
        combination,
        min_criteria,
        criteria_enabled,
        criteria_met_count,
        nullif(criteria_met, '') as criteria_met,
        two_works_prev_year_met,
        works_in_two_years_met,
        bottom_results_met,
        low_knowledge_quality_met,
        below_region_average_met,
        is_shnor,
        case
            when not is_shnor then null
            when criteria_met_count = 1 then criteria_met
            when criteria_met_count = 2 then 'both'
            else criteria_met
        end as shnor_criterion,
        case when is_shnor then nullif(concat_ws('|',
            case
                when works_in_two_years_enabled and works_in_two_years_met
                    then concat_ws('|', low_work_keys_two_years_ago, low_work_keys_prev_year)
                when two_works_prev_year_enabled and two_works_prev_year_met
                    then low_work_keys_prev_year
            end,
            case when low_knowledge_quality_enabled and low_knowledge_quality_met then low_knowledge_quality_evidence end
        ), '') end as triggering_works,
        case when is_shnor then nullif(concat_ws('; ',
            case when two_works_prev_year_enabled then two_works_prev_year_reason end,
            case when works_in_two_years_enabled then works_in_two_years_reason end,
            case when bottom_results_enabled then bottom_results_reason end,
            case when low_knowledge_quality_enabled then low_knowledge_quality_reason end,
            case when below_region_average_enabled then below_region_average_reason end
        ), '') end as shnor_reason,
        case
            when not is_shnor then null
            when (two_works_prev_year_enabled and two_works_prev_year_met
                  and works_in_two_years_enabled and works_in_two_years_met)
                or low_works_prev_year >= level_strong_min_low_works_prev_year
                then 'Сильно неуспевающие'
            when two_works_prev_year_enabled and two_works_prev_year_met
                then 'Умеренно неуспевающие'
            else 'Базово неуспевающие'
        end as shnor_level,
        low_works_prev_year,
        low_works_two_years_ago,
        low_work_keys_prev_year,
        low_work_keys_two_years_ago,
        low_work_details_prev_year,
        low_work_details_two_years_ago
    from decided

)

select * from final
