{#- The ШНОР criteria that count works with low results (FIOKO rule, seed 004), one row per school and
    list year Y such that the school has results in Y−1:
      two_works_prev_year — at least min_count (2) low works in Y−1;
      works_in_two_years  — at least min_count (1) low work in each of Y−1 and Y−2.
    A criterion is enabled when the selected rule set lists it in shnor_criteria for year Y. -#}
with

low_works as (

    select * from {{ ref('int_school_year_low_works') }}

),

criteria as (

    select criterion, min_count, year_from, year_to
    from {{ rule_rows('shnor_criteria', ['criterion']) }} as selected_rows
    where criterion in ('two_works_prev_year', 'works_in_two_years')

),

school_list_years as (

    select distinct
        login,
        year + 1 as list_year
    from low_works
    where participants > 0

),

low_by_year as (

    select
        login,
        year,
        {{ count_if('is_low_for_shnor') }} as low_works,
        {{ dbt.listagg(
            "case when is_low_for_shnor then " ~ dbt.cast('year', dbt.type_string()) ~ " || ':' || work_label end",
            "'|'", "order by work_label") }} as low_work_keys,
        {{ dbt.listagg(
            "case when is_low_for_shnor then work_label_ru || ' — ' || " ~ format_number_ru('fail_share_pct') ~ " || ' %' end",
            "', '", "order by work_label") }} as low_work_details
    from low_works
    group by login, year

),

evaluated as (

    select
        school_list_years.login,
        school_list_years.list_year,
        coalesce(previous.low_works, 0) as low_works_prev_year,
        coalesce(earlier.low_works, 0) as low_works_two_years_ago,
        previous.low_work_keys as low_work_keys_prev_year,
        earlier.low_work_keys as low_work_keys_two_years_ago,
        previous.low_work_details as low_work_details_prev_year,
        earlier.low_work_details as low_work_details_two_years_ago,
        (two_works.criterion is not null) as two_works_prev_year_enabled,
        two_works.min_count as two_works_prev_year_min_count,
        coalesce(coalesce(previous.low_works, 0) >= two_works.min_count, false) as two_works_prev_year_met,
        (two_years.criterion is not null) as works_in_two_years_enabled,
        two_years.min_count as works_in_two_years_min_count,
        coalesce(
            coalesce(previous.low_works, 0) >= two_years.min_count
            and coalesce(earlier.low_works, 0) >= two_years.min_count,
            false
        ) as works_in_two_years_met

    from school_list_years
    left join low_by_year as previous
        on school_list_years.login = previous.login
        and previous.year = school_list_years.list_year - 1
    left join low_by_year as earlier
        on school_list_years.login = earlier.login
        and earlier.year = school_list_years.list_year - 2
    left join criteria as two_works
        on two_works.criterion = 'two_works_prev_year'
        and school_list_years.list_year between two_works.year_from and two_works.year_to
    left join criteria as two_years
        on two_years.criterion = 'works_in_two_years'
        and school_list_years.list_year between two_years.year_from and two_years.year_to

),

explained as (

    select
        evaluated.*,
        case when two_works_prev_year_met then
            {{ dbt.cast('list_year - 1', dbt.type_string()) }} || ': ≥'
            || {{ dbt.cast('two_works_prev_year_min_count', dbt.type_string()) }}
            || ' работ с низкими результатами (' || low_work_details_prev_year || ')'
        end as two_works_prev_year_reason,
        case when works_in_two_years_met then
            {{ dbt.cast('list_year - 2', dbt.type_string()) }} || ' и '
            || {{ dbt.cast('list_year - 1', dbt.type_string()) }}
            || ': низкие результаты в каждом из двух лет ('
            || {{ dbt.cast('list_year - 2', dbt.type_string()) }} || ': ' || low_work_details_two_years_ago || '; '
            || {{ dbt.cast('list_year - 1', dbt.type_string()) }} || ': ' || low_work_details_prev_year || ')'
        end as works_in_two_years_reason
    from evaluated

)

select * from explained
