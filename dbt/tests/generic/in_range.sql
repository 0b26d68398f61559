{% test in_range(model, column_name, min_value=none, max_value=none) %}
{#- Rows whose value lies outside [min_value, max_value]; NULL passes (not_null says whether it may be). -#}
select {{ column_name }} as out_of_range_value
from {{ model }}
where {{ column_name }} is not null
  and (
    {% if min_value is not none %} {{ column_name }} < {{ min_value }} {% else %} false {% endif %}
    or {% if max_value is not none %} {{ column_name }} > {{ max_value }} {% else %} false {% endif %}
  )
{% endtest %}
