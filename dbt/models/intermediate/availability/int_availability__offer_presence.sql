-- Per offer: is it in the current state, and since when is it gone. A full-state source (events with
-- full_state_feed) publishes its whole list each time, so an offer is current when the newest list of
-- its feed has it, or when a direct event about it is newer than that list. Direct events alone never
-- withdraw an offer. Computed from the lists themselves, so the answer does not depend on the order in
-- which snapshots were pulled (the withdrawal events say the same, for the history).
with events as (

    select * from {{ ref('stg_availability__events') }}

),

lists as (

    select
        full_state_feed,
        max(published_at) as newest_list_at
    from events
    where full_state_feed is not null
    group by full_state_feed

),

offers as (

    select
        offer_key,
        max(full_state_feed) as full_state_feed,
        min(published_at) filter (where event_type = 'figure') as first_published_at,
        max(published_at) filter (where event_type = 'figure' and full_state_feed is not null) as last_listed_at,
        max(published_at) filter (where event_type = 'figure' and full_state_feed is null) as last_direct_at
    from events
    group by offer_key

),

presence as (

    select
        offers.*,
        lists.newest_list_at,
        case
            when lists.newest_list_at is null then offers.last_direct_at is not null
            else offers.last_listed_at = lists.newest_list_at
                or coalesce(offers.last_direct_at > lists.newest_list_at, false)
        end as is_current
    from offers
    left join lists using (full_state_feed)

)

select
    presence.*,
    -- gone since the first list of its feed after the one that last had it
    case
        when not presence.is_current then (
            select min(later.published_at)
            from events as later
            where
                later.full_state_feed = presence.full_state_feed
                and later.published_at > greatest(presence.last_listed_at, presence.last_direct_at)
        )
    end as withdrawn_at
from presence
