{% test no_small_counts(model, column_name) %}
{#- No published count lies between 1 and the suppression threshold. -#}
select {{ column_name }}
from {{ model }}
where {{ column_name }} between 1 and {{ var('suppression_threshold') }} - 1
{% endtest %}
