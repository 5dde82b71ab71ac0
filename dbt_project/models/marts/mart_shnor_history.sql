{#- ШНОР history per school (история включения в перечень ШНОР): the years listed by FIOKO and by the
    rule, first and last, the longest run of consecutive years, entries and exits. An entry is the first
    year of a run of listed years (the first listing counts); an exit is a year after a run in which the
    school was observed and not listed (a published FIOKO list; a year the rule was computed). -#}
with

flags as (

    select * from {{ ref('mart_school_flags') }}

),

schools as (

    select * from {{ ref('stg_schools') }}

),

observed as (

    select login, 'official' as source, year, coalesce(is_shnor_official, false) as is_listed
    from flags
    where fioko_list_published
    union all
    select login, 'computed' as source, year, is_shnor_computed as is_listed
    from flags
    where has_results_prev_year

),

listed as (

    select
        login,
        source,
        year,
        year - row_number() over (partition by login, source order by year) as run_key
    from observed
    where is_listed

),

runs as (

    select
        login,
        source,
        run_key,
        min(year) as run_start,
        max(year) as run_end,
        count(*) as run_length
    from listed
    group by login, source, run_key

),

run_exits as (

    select
        runs.*,
        (after_run.year is not null) as has_exit
    from runs
    left join observed as after_run
        on runs.login = after_run.login
        and runs.source = after_run.source
        and after_run.year = runs.run_end + 1
        and not after_run.is_listed

),

by_source as (

    select
        login,
        source,
        min(run_start) as first_year,
        max(run_end) as last_year,
        cast(sum(run_length) as {{ dbt.type_bigint() }}) as years_count,
        cast(max(run_length) as {{ dbt.type_bigint() }}) as longest_run,
        cast(count(*) as {{ dbt.type_bigint() }}) as entries,
        {{ count_if('has_exit') }} as exits
    from run_exits
    group by login, source

),

year_lists as (

    select
        login,
        source,
        {{ dbt.listagg(dbt.cast('year', dbt.type_string()), "', '", "order by year") }} as years
    from listed
    group by login, source

),

observed_years as (

    select login, source, min(year) as first_observed, max(year) as last_observed
    from observed
    group by login, source

),

school_logins as (

    select login from schools
    union
    select login from flags

),

names_in_flags as (

    select login, max(school_name) as school_name, max(municipality) as municipality
    from flags
    group by login

),

final as (

    select
        school_logins.login,
        coalesce(schools.short_name, max_name.school_name) as school_name,
        coalesce(schools.municipality, max_name.municipality) as municipality,
        {{ region_code_from_login('school_logins.login') }} as region_code,
        '{{ var("rule_set") }}' as rule_set,
        official_years.years as years_official,
        coalesce(official.years_count, 0) as years_count_official,
        official.first_year as first_year_official,
        official.last_year as last_year_official,
        coalesce(official.longest_run, 0) as longest_run_official,
        coalesce(official.entries, 0) as entries_official,
        coalesce(official.exits, 0) as exits_official,
        computed_years.years as years_computed,
        coalesce(computed.years_count, 0) as years_count_computed,
        computed.first_year as first_year_computed,
        computed.last_year as last_year_computed,
        coalesce(computed.longest_run, 0) as longest_run_computed,
        coalesce(computed.entries, 0) as entries_computed,
        coalesce(computed.exits, 0) as exits_computed,
        observed_official.first_observed as first_list_year_observed,
        observed_official.last_observed as last_list_year_observed,
        observed_computed.first_observed as first_computed_year,
        observed_computed.last_observed as last_computed_year
    from school_logins
    left join schools
        on school_logins.login = schools.login
    left join names_in_flags as max_name
        on school_logins.login = max_name.login
    left join by_source as official
        on school_logins.login = official.login and official.source = 'official'
    left join by_source as computed
        on school_logins.login = computed.login and computed.source = 'computed'
    left join year_lists as official_years
        on school_logins.login = official_years.login and official_years.source = 'official'
    left join year_lists as computed_years
        on school_logins.login = computed_years.login and computed_years.source = 'computed'
    left join observed_years as observed_official
        on school_logins.login = observed_official.login and observed_official.source = 'official'
    left join observed_years as observed_computed
        on school_logins.login = observed_computed.login and observed_computed.source = 'computed'

)

select * from final
