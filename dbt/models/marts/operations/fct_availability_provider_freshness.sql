-- Freshness of each provider's availability figures: the newest measurement per provider and how far
-- it lags behind the newest measurement anyone published (`days_behind_feed`). Against the feed's own
-- horizon rather than the wall clock, so a rebuild of the same events gives the same table; providers
-- more than var provider_freshness_days behind are stale. Only offers of the current state count: an
-- offer that left the list is withdrawn, not stale.
with availability_current as (

    select * from {{ ref('fct_availability_current') }}

),

providers as (

    select
        provider_name,
        count(distinct offer_key) as offers,
        max(measured_at) as last_measured_at,
        max(published_at) as last_published_at
    from availability_current
    group by provider_name

)

select
    provider_name,
    offers,
    last_measured_at,
    last_published_at,
    date_diff('day', last_measured_at, max(last_measured_at) over ()) as days_behind_feed,
    days_behind_feed > {{ var('provider_freshness_days') }} as is_stale
from providers
