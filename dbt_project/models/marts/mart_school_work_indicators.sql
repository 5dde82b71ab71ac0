{#- School × year × work indicators (показатели ОО по оценочным процедурам) with the municipality and
    region values beside them. ВПР works and ГИА exams are works alike (`ВПР RU5`, `ОГЭ RU`,
    `ЕГЭ MA_PROF`, `ЕГЭ MA_BASE`). First attempts only; shares in percent. -#}
with

results as (

    select * from {{ ref('int_school_work_results') }}

),

low_works as (

    select * from {{ ref('int_school_year_low_works') }}

),

areas as (

    select * from {{ ref('int_area_work_results') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

rules as (

    select * from {{ ref('int_rules_by_year') }}

),

final as (

    select
        results.login,
        schools.short_name as school_name,
        schools.municipality,
        results.region_code,
        results.year,
        results.assessment,
        results.work_code,
        results.work_label,
        results.work_label_ru,
        results.subject_group,
        results.grade,
        results.participants,
        case when results.participants + results.absent > 0 then results.absent end as absent,
        results.retake_participants,
        {{ pct('results.pass_count', 'results.participants') }} as pass_rate_pct,
        case when results.result_kind = 'mark' then {{ pct('results.quality_count', 'results.participants') }} end as quality_pct,
        results.fail_count,
        {{ pct('results.fail_count', 'results.participants') }} as fail_share_pct,
        case when results.result_kind = 'mark' then {{ pct('results.mark_5_count', 'results.participants') }} end as mark_5_share_pct,
        {{ dbt.cast('results.mark_sum', type_double()) }} / nullif(results.mark_count, 0) as mean_mark,
        {{ dbt.cast('results.primary_score_sum', type_double()) }} / nullif(results.primary_score_count, 0) as mean_primary_score,
        {{ dbt.cast('results.test_score_sum', type_double()) }} / nullif(results.test_score_count, 0) as mean_test_score,
        results.score_100_sum / nullif(results.score_100_count, 0) as mean_score_100,
        case when results.assessment = 'ЕГЭ' then results.fail_count end as ege_below_min_count,
        case when results.result_kind = 'test_score' then results.high_scorer_count end as ege_high_scorer_count,
        {%- for alias, prefix in [('municipality_totals', 'municipality'), ('region_totals', 'region')] %}
        {{ alias }}.participants as {{ prefix }}_participants,
        {{ pct(alias ~ '.pass_count', alias ~ '.participants') }} as {{ prefix }}_pass_rate_pct,
        case when results.result_kind = 'mark' then {{ pct(alias ~ '.quality_count', alias ~ '.participants') }} end as {{ prefix }}_quality_pct,
        {{ pct(alias ~ '.fail_count', alias ~ '.participants') }} as {{ prefix }}_fail_share_pct,
        {{ dbt.cast(alias ~ '.mark_sum', type_double()) }} / nullif({{ alias }}.mark_count, 0) as {{ prefix }}_mean_mark,
        {{ dbt.cast(alias ~ '.primary_score_sum', type_double()) }} / nullif({{ alias }}.primary_score_count, 0) as {{ prefix }}_mean_primary_score,
        {{ dbt.cast(alias ~ '.test_score_sum', type_double()) }} / nullif({{ alias }}.test_score_count, 0) as {{ prefix }}_mean_test_score,
        {%- endfor %}
        results.is_independent,
        low_works.counts_for_shnor,
        low_works.low_result_threshold_pct,
        low_works.is_low_result,
        results.participants >= rules.min_participants_publication as is_publishable,
        results.level_of_detail,
        '{{ var("rule_set") }}' as rule_set

    from results
    left join schools
        on results.login = schools.login
    left join low_works
        on results.login = low_works.login
        and results.year = low_works.year
        and results.work_label = low_works.work_label
    left join areas as municipality_totals
        on municipality_totals.area_level = 'municipality'
        and municipality_totals.region_code = results.region_code
        and municipality_totals.municipality = coalesce(schools.municipality, '(нет в реестре)')
        and municipality_totals.year = results.year
        and municipality_totals.work_label = results.work_label
    left join areas as region_totals
        on region_totals.area_level = 'region'
        and region_totals.region_code = results.region_code
        and region_totals.year = results.year
        and region_totals.work_label = results.work_label
    left join rules
        on results.year = rules.year

)

select * from final
