{#- One row per school × year × work: whether the work had low results (низкие результаты) and whether
    it counts for ШНОР under the selected rule set. A work is low when at least low_result_threshold_pct
    (30 %) of its participants got «неудовлетворительно»; exactly 30 % is low. Works replaced by school
    marks (2020 ОГЭ) and works without participants are never low. -#}
with

results as (

    select * from {{ ref('int_school_work_results') }}

),

rules as (

    select year, low_result_threshold_pct from {{ ref('int_rules_by_year') }}

),

considered_works as (

    select work_label, year_from, year_to
    from {{ rule_rows('shnor_works') }} as selected_rows

),

classified as (

    select
        results.login,
        results.year,
        results.work_label,
        results.work_label_ru,
        results.participants,
        results.fail_count,
        {{ pct('results.fail_count', 'results.participants') }} as fail_share_pct,
        results.is_independent,
        rules.low_result_threshold_pct,
        (considered_works.work_label is not null) as counts_for_shnor,
        coalesce(
            results.is_independent
            and results.participants > 0
            and 100.0 * results.fail_count >= rules.low_result_threshold_pct * results.participants,
            false
        ) as is_low_result

    from results
    left join rules
        on results.year = rules.year
    left join considered_works
        on results.work_label = considered_works.work_label
        and results.year between considered_works.year_from and considered_works.year_to

),

final as (

    select
        classified.*,
        (counts_for_shnor and is_low_result) as is_low_for_shnor
    from classified

)

select * from final
