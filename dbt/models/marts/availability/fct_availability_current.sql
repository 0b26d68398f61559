-- Current state: the offers of the newest list of each full-state feed, plus offers whose direct events
-- are newer than it, each with its newest figure (newest measured_at; ties: newest publication).
with history as (

    select * from {{ ref('fct_availability_history') }}

),

presence as (

    select * from {{ ref('int_availability__offer_presence') }}

)

select
    history.* exclude (is_current, is_late_arrival, ingested_at, source_name, event_type),
    presence.newest_list_at as list_published_at
from history
inner join presence using (offer_key)
where history.is_current
