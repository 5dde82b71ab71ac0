{#- Rule rows are versioned by campaign-year range: two rows with the same key must not both apply to
    one year (a null year_to means open-ended). -#}
{% test no_overlapping_year_ranges(model, key_columns, year_from='year_from', year_to='year_to') %}
select {% for key in key_columns %}a.{{ key }}, {% endfor %}a.{{ year_from }} as first_from, b.{{ year_from }} as second_from
from {{ model }} as a
join {{ model }} as b
  on {% for key in key_columns %}a.{{ key }} = b.{{ key }} and {% endfor %}a.{{ year_from }} < b.{{ year_from }}
where b.{{ year_from }} <= coalesce(a.{{ year_to }}, 9999)
{% endtest %}
