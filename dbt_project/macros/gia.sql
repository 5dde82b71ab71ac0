{#- An appeal's date as written by РЦОИ, «05.07.2021 9:54:41», as a text that sorts in time order
    (20210705 09:54:41); the same SQL on DuckDB and PostgreSQL. -#}
{% macro gia_appeal_time(column) -%}
    coalesce(
        substr(trim({{ column }}), 7, 4) || substr(trim({{ column }}), 4, 2) || substr(trim({{ column }}), 1, 2)
        || ' ' || lpad(split_part(split_part(trim({{ column }}), ' ', 2), ':', 1), 2, '0')
        || ':' || split_part(split_part(trim({{ column }}), ' ', 2), ':', 2)
        || ':' || split_part(split_part(trim({{ column }}), ' ', 2), ':', 3),
        ''
    )
{%- endmacro %}
