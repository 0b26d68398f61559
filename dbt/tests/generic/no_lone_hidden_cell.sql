{% test no_lone_hidden_cell(model, groups) %}
{#- No group of cells that adds up to a total has exactly one hidden cell (it could be recovered). -#}
select {{ groups | join(', ') }}, count(*) filter (where is_suppressed) as hidden, count(*) as cells
from {{ model }}
group by {{ groups | join(', ') }}
having count(*) filter (where is_suppressed) = 1 and count(*) > 1
{% endtest %}
