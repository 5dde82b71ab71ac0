{#- Every row satisfies a SQL boolean expression (rows where it is false fail; null counts as true only
    when `null_passes` is true, the default). -#}
{% test expression_is_true(model, expression, null_passes=true, column_name=none) %}
select *
from {{ model }}
where {% if null_passes %}not coalesce({{ expression }}, true){% else %}not coalesce({{ expression }}, false){% endif %}
{% endtest %}
