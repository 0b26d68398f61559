-- The headline's municipalities never exceed the region's, and a complete figure sums all of them.
-- Returns the headline row when it does not.
with headline as (

    select * from {{ ref('fct_headline_kpis') }}

)

select
    region,
    gemeenten_in_total,
    gemeenten_expected,
    is_complete
from headline
where
    gemeenten_in_total > gemeenten_expected
    or is_complete != (gemeenten_in_total = gemeenten_expected)
    or thuiszitters_with_youth_care > thuiszitters
