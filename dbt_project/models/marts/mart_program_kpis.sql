{#- Program indicators (целевые показатели программы, seed 004) per municipality × year and region total:
    indicator name in Russian, target (seed program_targets), actual value, numerator and denominator,
    and whether the target is met.

    - vpr_coping_share: ВПР participants with mark ≥ vpr_coping_min_mark (3), by grade; from participant
      rows, or from «Статистика по отметкам» for a school without them (int_vpr_school_work_counts).
    - shnor_share_official / shnor_share_computed: ШНОР schools among the registry's schools open that
      year, by the FIOKO list (years with a published list) and by the selected rule.
    - non_objective_share: schools with at least one marker = 1 on the FIOKO list of schools with signs of
      non-objective VPR results, among open schools (years with a published list).
    - shnor_teachers_upskilled_share: teachers with КПК in the last 3 years / teachers, social passport of
      year Y, in the ШНОР schools of year Y.
    - shnor_shnsu_quality_change: knowledge quality (ВПР, marks 4–5) in year Y minus year Y−1, percentage
      points, in the schools that are ШНОР or ШНСУ in year Y and wrote ВПР in both years.
    "ШНОР schools of year Y" for the last two: the FIOKO list when it is published for Y, otherwise the
    computed status (column shnor_source says which). -#}
with

vpr_counts as (

    -- both levels of detail: participant rows, or «Статистика по отметкам» where a school has no rows
    select * from {{ ref('int_vpr_school_work_counts') }}
    where marks_from is not null

),

school_work_results as (

    select * from {{ ref('int_school_work_results') }}

),

flags as (

    select * from {{ ref('mart_school_flags') }}

),

context as (

    select * from {{ ref('mart_school_context') }}

),

markers as (

    select * from {{ ref('stg_fioko_objectivity_markers') }}

),

passport as (

    select * from {{ ref('stg_social_passport') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

rules as (

    select * from {{ ref('int_rules_by_year') }}

),

targets as (

    select indicator_code, indicator_name, comparison, target_value, unit, year_from, year_to
    from {{ rule_rows('program_targets', ['indicator_code']) }} as selected_rows

),

open_schools as (

    select
        schools.login,
        schools.municipality,
        schools.region_code,
        rules.year
    from schools
    cross join rules
    where schools.opened_year is null or schools.opened_year <= rules.year

),

published_list_years as (

    select distinct year from flags where fioko_list_published

),

computed_years as (

    select distinct year from flags where has_results_prev_year

),

marker_years as (

    select distinct year from markers

),

program_shnor as (

    select
        login,
        year,
        case when fioko_list_published then 'ФИОКО' else 'расчёт' end as shnor_source,
        case when fioko_list_published then coalesce(is_shnor_official, false) else is_shnor_computed end as is_shnor
    from flags

),

vpr_coping as (

    select
        'vpr_coping_share' as indicator_code,
        vpr_counts.login,
        vpr_counts.year,
        vpr_counts.grade,
        cast(null as {{ dbt.type_string() }}) as shnor_source,
        {{ dbt.cast("sum(case when rules.vpr_coping_min_mark <= 2 then vpr_counts.mark_2 else 0 end"
                    " + case when rules.vpr_coping_min_mark <= 3 then vpr_counts.mark_3 else 0 end"
                    " + case when rules.vpr_coping_min_mark <= 4 then vpr_counts.mark_4 else 0 end"
                    " + case when rules.vpr_coping_min_mark <= 5 then vpr_counts.mark_5 else 0 end)",
                    dbt.type_bigint()) }} as numerator,
        {{ dbt.cast('sum(vpr_counts.mark_2 + vpr_counts.mark_3 + vpr_counts.mark_4 + vpr_counts.mark_5)',
                    dbt.type_bigint()) }} as denominator,
        cast(null as integer) as numerator_previous,
        cast(null as integer) as denominator_previous
    from vpr_counts
    inner join rules
        on vpr_counts.year = rules.year
    group by vpr_counts.login, vpr_counts.year, vpr_counts.grade

),

shnor_official as (

    select
        'shnor_share_official' as indicator_code,
        open_schools.login,
        open_schools.year,
        cast(null as integer) as grade,
        'ФИОКО' as shnor_source,
        case when coalesce(flags.is_shnor_official, false) then 1 else 0 end as numerator,
        1 as denominator,
        cast(null as integer) as numerator_previous,
        cast(null as integer) as denominator_previous
    from open_schools
    inner join published_list_years
        on open_schools.year = published_list_years.year
    left join flags
        on open_schools.login = flags.login
        and open_schools.year = flags.year

),

shnor_computed as (

    select
        'shnor_share_computed' as indicator_code,
        open_schools.login,
        open_schools.year,
        cast(null as integer) as grade,
        'расчёт' as shnor_source,
        case when coalesce(flags.is_shnor_computed, false) then 1 else 0 end as numerator,
        1 as denominator,
        cast(null as integer) as numerator_previous,
        cast(null as integer) as denominator_previous
    from open_schools
    inner join computed_years
        on open_schools.year = computed_years.year
    left join flags
        on open_schools.login = flags.login
        and open_schools.year = flags.year

),

non_objective as (

    select
        'non_objective_share' as indicator_code,
        open_schools.login,
        open_schools.year,
        cast(null as integer) as grade,
        cast(null as {{ dbt.type_string() }}) as shnor_source,
        case when max(case when markers.is_marked then 1 else 0 end) = 1 then 1 else 0 end as numerator,
        1 as denominator,
        cast(null as integer) as numerator_previous,
        cast(null as integer) as denominator_previous
    from open_schools
    inner join marker_years
        on open_schools.year = marker_years.year
    left join markers
        on open_schools.login = markers.login
        and open_schools.year = markers.year
    group by open_schools.login, open_schools.year

),

teachers_upskilled as (

    select
        'shnor_teachers_upskilled_share' as indicator_code,
        program_shnor.login,
        program_shnor.year,
        cast(null as integer) as grade,
        program_shnor.shnor_source,
        passport.teachers_upskilled_3y as numerator,
        passport.teachers_total as denominator,
        cast(null as integer) as numerator_previous,
        cast(null as integer) as denominator_previous
    from program_shnor
    inner join passport
        on program_shnor.login = passport.login
        and program_shnor.year = passport.year
    where program_shnor.is_shnor

),

target_schools as (

    select login, year, max(shnor_source) as shnor_source
    from (
        select login, year, shnor_source from program_shnor where is_shnor
        union all
        select login, year, cast(null as {{ dbt.type_string() }}) as shnor_source from context where is_shnsu
    ) as shnor_or_shnsu
    group by login, year

),

vpr_quality as (

    select
        login,
        year,
        sum(quality_count) as quality_count,
        sum(participants) as participants
    from school_work_results
    where assessment = 'ВПР'
    group by login, year

),

quality_change as (

    select
        'shnor_shnsu_quality_change' as indicator_code,
        target_schools.login,
        target_schools.year,
        cast(null as integer) as grade,
        target_schools.shnor_source,
        current_year.quality_count as numerator,
        current_year.participants as denominator,
        previous_year.quality_count as numerator_previous,
        previous_year.participants as denominator_previous
    from target_schools
    inner join vpr_quality as current_year
        on target_schools.login = current_year.login
        and target_schools.year = current_year.year
    inner join vpr_quality as previous_year
        on target_schools.login = previous_year.login
        and previous_year.year = target_schools.year - 1
    where current_year.participants > 0
      and previous_year.participants > 0

),

facts as (

    select * from vpr_coping
    union all
    select * from shnor_official
    union all
    select * from shnor_computed
    union all
    select * from non_objective
    union all
    select * from teachers_upskilled
    union all
    select * from quality_change

),

located as (

    select
        facts.*,
        coalesce(schools.municipality, '(нет в реестре)') as municipality,
        {{ region_code_from_login('facts.login') }} as region_code
    from facts
    left join schools
        on facts.login = schools.login

),

{%- set measures = "count(distinct login) as schools, sum(numerator) as numerator, sum(denominator) as denominator, sum(numerator_previous) as numerator_previous, sum(denominator_previous) as denominator_previous, max(shnor_source) as shnor_source" %}

aggregated as (

    select
        'municipality' as territory_level,
        region_code,
        municipality,
        year,
        indicator_code,
        grade,
        {{ measures }}
    from located
    group by region_code, municipality, year, indicator_code, grade

    union all

    select
        'region' as territory_level,
        region_code,
        cast(null as {{ dbt.type_string() }}) as municipality,
        year,
        indicator_code,
        grade,
        {{ measures }}
    from located
    group by region_code, year, indicator_code, grade

),

valued as (

    select
        aggregated.*,
        case
            when indicator_code = 'shnor_shnsu_quality_change'
                then {{ pct('numerator', 'denominator') }} - {{ pct('numerator_previous', 'denominator_previous') }}
            else {{ pct('numerator', 'denominator') }}
        end as actual_value
    from aggregated

),

final as (

    select
        valued.territory_level,
        valued.region_code,
        valued.municipality,
        valued.year,
        valued.indicator_code,
        targets.indicator_name,
        valued.grade,
        targets.unit,
        targets.comparison,
        targets.target_value,
        valued.actual_value,
        valued.numerator,
        valued.denominator,
        valued.numerator_previous,
        valued.denominator_previous,
        valued.schools,
        valued.shnor_source,
        case
            when valued.actual_value is null or targets.target_value is null then null
            when targets.comparison = '>=' then valued.actual_value >= targets.target_value
            when targets.comparison = '<=' then valued.actual_value <= targets.target_value
        end as is_met,
        '{{ var("rule_set") }}' as rule_set
    from valued
    left join targets
        on valued.indicator_code = targets.indicator_code
        and valued.year between targets.year_from and targets.year_to

)

select * from final
