{#- year_from is not after year_to (a null year_to is open-ended). -#}
{% test year_range_is_valid(model, year_from='year_from', year_to='year_to') %}
select *
from {{ model }}
where {{ year_from }} is null or {{ year_from }} > coalesce({{ year_to }}, 9999)
{% endtest %}
