{% macro latest_delivery() %}
{#-
    Keep only the newest delivery of each scope (municipality, partner, SWV, CBS table) and period: the
    highest version wins, and among identical versions the one landed last. A revision therefore replaces
    exactly the scope-period it revises, and never touches any other.
-#}
qualify dense_rank() over (
    partition by delivery_scope, delivery_period
    order by delivery_version desc, ingested_at desc, batch_id desc
) = 1
{% endmacro %}
