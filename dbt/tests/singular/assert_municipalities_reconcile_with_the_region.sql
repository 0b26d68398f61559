-- Reconciliation: for every quarter and form of care, the municipalities' youths add up to the region's.
-- The region counts a youth who moved within the quarter once and each municipality counts them, so the
-- sum may exceed the region by the movers (at most 2%), never fall short of it. Only the region's
-- municipalities count (a national deployment delivers all 342).
with municipal as (
    select period_key, care_form, sum(youths_in_care) as summed
    from {{ ref('fct_youth_care_per_1000') }}
    where level = 'gemeente' and gemeente_code in (select gemeente_code from {{ ref('dim_gemeente') }})
    group by all
)

select municipal.period_key, municipal.care_form, municipal.summed, region.youths_in_care as region
from municipal
inner join {{ ref('fct_youth_care_per_1000') }} as region
    on region.level = 'regio' and region.period_key = municipal.period_key
    and region.care_form = municipal.care_form
where municipal.summed < region.youths_in_care or municipal.summed > region.youths_in_care * 1.02
