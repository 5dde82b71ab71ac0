{#- School × list year: the works with low results and the ШНОР status computed by the selected rule set
    for year Y from years Y−1 and Y−2, beside the official FIOKO status and level, and whether they agree.
    Rows: every school and year Y such that the school has results in Y−1, and every row of the official
    lists. -#}
with

status as (

    select * from {{ ref('int_shnor_status') }}

),

official as (

    select * from {{ ref('stg_fioko_shnor') }}

),

published_lists as (

    select distinct list_year from official

),

low_works as (

    select * from {{ ref('int_school_year_low_works') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

low_this_year as (

    select
        login,
        year,
        {{ count_if('is_low_for_shnor') }} as low_works_count,
        {{ dbt.listagg(
            "case when is_low_for_shnor then work_label_ru || ' — ' || " ~ format_number_ru('fail_share_pct') ~ " || ' %' end",
            "', '", "order by work_label") }} as low_works
    from low_works
    group by login, year

),

school_years as (

    select login, list_year from status
    union
    select login, list_year from official

),

joined as (

    select
        school_years.login,
        school_years.list_year as year,
        coalesce(schools.short_name, official.school_name) as school_name,
        coalesce(schools.municipality, official.municipality) as municipality,
        {{ region_code_from_login('school_years.login') }} as region_code,
        '{{ var("rule_set") }}' as rule_set,
        (status.login is not null) as has_results_prev_year,
        coalesce(low_this_year.low_works_count, 0) as low_works_count_this_year,
        low_this_year.low_works as low_works_this_year,
        coalesce(status.low_works_prev_year, 0) as low_works_count_prev_year,
        status.low_work_details_prev_year as low_works_prev_year,
        coalesce(status.low_works_two_years_ago, 0) as low_works_count_two_years_ago,
        status.low_work_details_two_years_ago as low_works_two_years_ago,
        status.criteria_met,
        status.shnor_criterion,
        coalesce(status.is_shnor, false) as is_shnor_computed,
        status.triggering_works,
        status.shnor_reason,
        status.shnor_level as shnor_level_computed,
        (published_lists.list_year is not null) as fioko_list_published,
        case when published_lists.list_year is not null then official.login is not null end as is_shnor_official,
        official.level as shnor_level_official

    from school_years
    left join status
        on school_years.login = status.login
        and school_years.list_year = status.list_year
    left join official
        on school_years.login = official.login
        and school_years.list_year = official.list_year
    left join published_lists
        on school_years.list_year = published_lists.list_year
    left join schools
        on school_years.login = schools.login
    left join low_this_year
        on school_years.login = low_this_year.login
        and school_years.list_year = low_this_year.year

),

final as (

    select
        joined.*,
        case
            when fioko_list_published and has_results_prev_year then is_shnor_computed = is_shnor_official
        end as status_agrees,
        case
            when is_shnor_computed and is_shnor_official then shnor_level_computed = shnor_level_official
        end as level_agrees,
        case
            when not fioko_list_published then 'перечень ФИОКО за год не загружен'
            when not has_results_prev_year then 'нет результатов за предыдущий год для расчёта'
            when is_shnor_computed and is_shnor_official then 'в перечне ФИОКО и по расчёту'
            when is_shnor_computed then 'только по расчёту: нет в перечне ФИОКО'
            when is_shnor_official then 'только в перечне ФИОКО: по расчёту не ШНОР'
            else 'не ШНОР ни по расчёту, ни по перечню ФИОКО'
        end as agreement
    from joined

)

select * from final
