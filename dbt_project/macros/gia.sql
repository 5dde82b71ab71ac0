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

{#- The crosswalk registry/gia_school_codes.xlsx as one row per year × exam type × code a list may name a
    school by: the РЦОИ Код ОО in every list (preference 0), the ОГЭ code in ОГЭ and ГВЭ lists, the ЕГЭ code in
    ЕГЭ lists (preference 1). A list row then finds its school by equality on (year, exam_type, code), which
    DuckDB answers with a hash join; one condition with `or` across the code columns made it a nested loop. -#}
{% macro gia_codes_by_exam(crosswalk) -%}
    select
        {{ crosswalk }}.year,
        exam_types.exam_type,
        trim({{ crosswalk }}.school_code) as code,
        {{ crosswalk }}.login,
        0 as preference
    from {{ crosswalk }}
    cross join (values ('ОГЭ'), ('ГВЭ'), ('ЕГЭ')) as exam_types (exam_type)
    where {{ crosswalk }}.school_code is not null

    union all

    select
        {{ crosswalk }}.year,
        exam_types.exam_type,
        trim({{ crosswalk }}.oge_code) as code,
        {{ crosswalk }}.login,
        1 as preference
    from {{ crosswalk }}
    cross join (values ('ОГЭ'), ('ГВЭ')) as exam_types (exam_type)
    where {{ crosswalk }}.oge_code is not null

    union all

    select
        {{ crosswalk }}.year,
        'ЕГЭ' as exam_type,
        trim({{ crosswalk }}.ege_code) as code,
        {{ crosswalk }}.login,
        1 as preference
    from {{ crosswalk }}
    where {{ crosswalk }}.ege_code is not null
{%- endmacro %}
