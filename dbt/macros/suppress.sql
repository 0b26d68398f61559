{% macro suppress(relation, count_column, hide_with, groups) %}
{#-
    The one suppression step every published mart goes through.

    Primary: a count of 1 up to the threshold (var suppression_threshold, default 10) is hidden; zero is
    shown (it discloses no one). Secondary: within each group of cells that add up to a published total
    (`groups`, e.g. all municipalities of one quarter and form of care), a single hidden cell could be
    recovered by subtraction, so the smallest visible cell of that group is hidden too. Everything in
    `hide_with` (rates, shares, medians computed from the count) is hidden with it, and `is_suppressed`
    says so.
-#}
{%- set threshold = var('suppression_threshold') -%}
with cells as (

    select *, {{ count_column }} between 1 and {{ threshold }} - 1 as is_primary
    from {{ relation }}

),

ranked as (

    select
        *,
        count(*) filter (where is_primary) over (partition by {{ groups | join(', ') }}) as primary_in_group,
        count(*) over (partition by {{ groups | join(', ') }}) as cells_in_group,
        row_number() over (
            partition by {{ groups | join(', ') }}
            order by is_primary, {{ count_column }}, hash(*columns(*))
        ) as visible_rank
    from cells

),

decided as (

    select
        * exclude (primary_in_group, cells_in_group, visible_rank),
        is_primary or (primary_in_group = 1 and cells_in_group > 1 and visible_rank = 1) as is_suppressed
    from ranked

)

select
    * exclude (is_primary) replace (
        case when is_suppressed then null else {{ count_column }} end as {{ count_column }}
        {%- for column in hide_with %},
        case when is_suppressed then null else {{ column }} end as {{ column }}
        {%- endfor %}
    )
from decided
{% endmacro %}
