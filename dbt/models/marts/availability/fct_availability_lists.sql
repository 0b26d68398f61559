-- The lists of every full-state feed (one snapshot pull each): when published, how many offers they
-- had, how many left with them, and which is the newest — the list the current state is based on.
with events as (

    select * from {{ ref('fct_availability_history') }}
    where full_state_feed is not null

)

select
    full_state_feed,
    published_at,
    any_value(source_name) as source_name,
    count(distinct offer_key) filter (where event_type = 'figure') as offers_listed,
    count(distinct offer_key) filter (where event_type = 'figure' and target_group = 'jeugd') as youth_offers_listed,
    count(distinct offer_key) filter (where event_type = 'withdrawal') as offers_withdrawn,
    published_at = max(published_at) over (partition by full_state_feed) as is_newest
from events
group by full_state_feed, published_at
