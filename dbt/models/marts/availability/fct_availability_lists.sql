-- The lists of every full-state feed (one snapshot pull each): when published, how many offers they
-- had, how many of the list before them they lack, and which is the newest — the list the current state
-- is based on. Counted from the lists themselves, so it holds whatever order they arrived in.
with history as (

    select * from {{ ref('fct_availability_history') }}

),

feed_events as (

    select distinct
        full_state_feed,
        published_at,
        source_name,
        offer_key,
        target_group,
        event_type
    from history
    where full_state_feed is not null

),

figures as (

    select * from feed_events
    where event_type = 'figure'

),

lists as (

    select
        full_state_feed,
        published_at,
        any_value(source_name) as source_name,
        count(distinct offer_key) filter (where event_type = 'figure') as offers_listed,
        count(distinct offer_key) filter (where event_type = 'figure' and target_group = 'jeugd')
            as youth_offers_listed,
        lag(published_at) over (partition by full_state_feed order by published_at) as previous_published_at
    from feed_events
    group by full_state_feed, published_at

)

select
    lists.* exclude (previous_published_at),
    (
        select count(distinct before.offer_key) from figures as before
        where before.full_state_feed = lists.full_state_feed and before.published_at = lists.previous_published_at
            and before.offer_key not in (
                select now.offer_key from figures as now
                where now.full_state_feed = lists.full_state_feed and now.published_at = lists.published_at
            )
    ) as offers_withdrawn,
    lists.published_at = max(lists.published_at) over (partition by lists.full_state_feed) as is_newest
from lists
