-- Live current state for analysts: the same answer as fct_availability_current, computed when it is
-- queried from the validated zone's files, so an event the ingester landed a moment ago is in it without
-- a rebuild. A view in the schema `live` of the analysts' file only (the published file stays tables);
-- it reads the lake by absolute path, so it answers on the machine that holds the lake. It uses the
-- source alone (no ref): its SQL stands on its own when the analysts' file is written.
{{ config(materialized='view', schema='live') }}

with events as (

    select
        event_id,
        -- v1 events (before withdrawals existed) are figures of no full-state feed
        coalesce(event_type, 'figure') as event_type,
        full_state_feed,
        offer_key,
        provider_name,
        offer as offer_name,
        target_group,
        location as location_text,
        gemeente_code,
        location_gemeente_codes,
        location_is_regional,
        care_types,
        is_crisis,
        contract as contract_text,
        free_places,
        waitlist_size,
        wait_weeks_intake,
        wait_weeks_treatment,
        wait_text_intake,
        wait_text_treatment,
        wait_kind_intake,
        wait_kind_treatment,
        quality as figure_quality,
        note,
        timezone('UTC', measured_at) as measured_at,
        measured_at_precision,
        timezone('UTC', published_at) as published_at,
        source_url,
        timezone('UTC', _ingested_at) as ingested_at
    from {{ source('availability', 'events') }}

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
        max(published_at) filter (
            where event_type = 'figure' and full_state_feed is not null
        ) as last_listed_at,
        max(published_at) filter (where event_type = 'figure' and full_state_feed is null) as last_direct_at
    from events
    group by offer_key

),

-- int_availability__offer_presence's rule: current when the newest list of its feed has it, or a direct
-- event about it is newer than that list; an offer known from direct events only stays current
presence as (

    select
        offers.offer_key,
        lists.newest_list_at,
        case
            when lists.newest_list_at is null then offers.last_direct_at is not null
            else offers.last_listed_at = lists.newest_list_at
                or coalesce(offers.last_direct_at > lists.newest_list_at, false)
        end as is_current
    from offers
    left join lists using (full_state_feed)

),

-- int_availability__offer_measurements's rule: the newest measured_at wins, then the newest publication
figures as (

    select
        * exclude (event_type),
        greatest(wait_weeks_intake, wait_weeks_treatment) as wait_weeks,
        row_number() over (
            partition by offer_key
            order by measured_at desc, published_at desc, event_id desc
        ) as recency_rank
    from events
    where event_type = 'figure'

)

select
    figures.event_id,
    figures.full_state_feed,
    figures.offer_key,
    figures.provider_name,
    figures.offer_name,
    figures.target_group,
    figures.location_text,
    figures.gemeente_code,
    figures.location_gemeente_codes,
    figures.location_is_regional,
    figures.care_types,
    figures.is_crisis,
    figures.contract_text,
    figures.free_places,
    figures.waitlist_size,
    figures.wait_weeks_intake,
    figures.wait_weeks_treatment,
    figures.wait_weeks,
    figures.wait_text_intake,
    figures.wait_text_treatment,
    figures.wait_kind_intake,
    figures.wait_kind_treatment,
    figures.figure_quality,
    figures.note,
    figures.measured_at,
    figures.measured_at_precision,
    figures.published_at,
    figures.source_url,
    presence.newest_list_at as list_published_at,
    figures.ingested_at
from figures
inner join presence using (offer_key)
where figures.recency_rank = 1 and presence.is_current
