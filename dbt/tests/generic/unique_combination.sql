{% test unique_combination(model, columns) %}
{#- No two rows share the same combination of `columns` (the grain), without needing dbt_utils. -#}
select {{ columns | join(', ') }}, count(*) as rows_with_this_key
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
