{#- Rule rows are versioned by campaign-year range (a null year_to means open-ended): each range starts no
    later than it ends, and two rows with the same key do not both apply to one year. One test rather than
    one per property: on these seeds of a few dozen rows dbt's fixed work per test is all of its cost.
    A failing row is a range that is not valid (second_from null) or the start years of two that overlap. -#}
{% test valid_year_ranges(model, key_columns, year_from='year_from', year_to='year_to') %}
select
    {% for key in key_columns %}{{ key }}, {% endfor %}{{ year_from }} as first_from,
    cast(null as {{ dbt.type_int() }}) as second_from
from {{ model }}
where {{ year_from }} is null or {{ year_from }} > coalesce({{ year_to }}, 9999)
union all
select {% for key in key_columns %}a.{{ key }}, {% endfor %}a.{{ year_from }}, b.{{ year_from }}
from {{ model }} as a
join {{ model }} as b
  on {% for key in key_columns %}a.{{ key }} = b.{{ key }} and {% endfor %}a.{{ year_from }} < b.{{ year_from }}
where b.{{ year_from }} <= coalesce(a.{{ year_to }}, 9999)
{% endtest %}
