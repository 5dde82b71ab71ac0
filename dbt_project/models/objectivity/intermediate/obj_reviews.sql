-- Reviewers' latest decision on each flag (login × year × work × sign), from $LANDING_DIR/reviews/reviews.csv
-- loaded by the asset raw/reviews. Before any review file has been loaded the table may not exist yet:
-- then there are no decisions and every flag stays «на проверке».
{%- set reviews = source('raw', 'reviews') %}
{%- set loaded = execute and adapter.get_relation(database=reviews.database, schema=reviews.schema, identifier=reviews.identifier) %}

{% if loaded %}
with

reviews as (

    select * from {{ reviews }}

),

ranked as (

    select
        login, year, work_code, sign, decision, reviewer, decided_at, comment,
        row_number() over (
            partition by login, year, work_code, sign order by decided_at desc, _row_number desc
        ) as newest_first
    from reviews

),

final as (

    select login, year, work_code, sign, decision, reviewer, decided_at, comment
    from ranked
    where newest_first = 1

)

select * from final
{% else %}
select
    {{ dbt.cast('null', dbt.type_string()) }} as login,
    {{ dbt.cast('null', dbt.type_int()) }} as year,
    {{ dbt.cast('null', dbt.type_string()) }} as work_code,
    {{ dbt.cast('null', dbt.type_string()) }} as sign,
    {{ dbt.cast('null', dbt.type_string()) }} as decision,
    {{ dbt.cast('null', dbt.type_string()) }} as reviewer,
    {{ dbt.cast('null', dbt.type_timestamp()) }} as decided_at,
    {{ dbt.cast('null', dbt.type_string()) }} as comment
where false
{% endif %}
