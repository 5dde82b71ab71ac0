-- Reviewers' latest decision on each flag (login × year × work × sign), from $LANDING_DIR/reviews/reviews.csv
-- loaded by the asset raw/reviews. Before any review file has been loaded the table may not exist yet:
-- then there are no decisions and every flag stays «на проверке».
{%- set reviews = source('reviews', 'reviews') %}
{%- set loaded = execute and adapter.get_relation(database=reviews.database, schema=reviews.schema, identifier=reviews.identifier) %}

{% if loaded %}
select login, year, work_code, sign, decision, reviewer, decided_at, comment
from {{ reviews }}
qualify row_number() over (
    partition by login, year, work_code, sign order by decided_at desc, _row_number desc
) = 1
{% else %}
select
    null::varchar as login, null::integer as year, null::varchar as work_code, null::varchar as sign,
    null::varchar as decision, null::varchar as reviewer, null::timestamp as decided_at, null::varchar as comment
where false
{% endif %}
