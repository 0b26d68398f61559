{% test stock_flow_balances(model) %}
{#- begin stand + inflow − outflow = end stand on every row (CBS's stock-flow identity). -#}
select *
from {{ model }}
where begin_stand + instroom - uitstroom != eind_stand
{% endtest %}
