-- The full history of published availability: one row per event — every figure and every withdrawal,
-- with when it happened — and whether the row is the offer's current state.
with measurements as (

    select * from {{ ref('int_availability__offer_measurements') }}

),

presence as (

    select * from {{ ref('int_availability__offer_presence') }}

)

select
    measurement.event_id,
    measurement.event_type,
    measurement.full_state_feed,
    measurement.offer_key,
    measurement.provider_name,
    measurement.offer_name,
    measurement.target_group,
    measurement.location_text,
    measurement.gemeente_code,
    measurement.location_gemeente_codes,
    measurement.location_is_regional,
    measurement.care_types,
    measurement.is_crisis,
    measurement.contract_text,
    measurement.free_places,
    measurement.waitlist_size,
    measurement.wait_weeks_intake,
    measurement.wait_weeks_treatment,
    measurement.wait_weeks,
    measurement.wait_text_intake,
    measurement.wait_text_treatment,
    measurement.wait_kind_intake,
    measurement.wait_kind_treatment,
    measurement.figure_quality,
    measurement.note,
    measurement.measured_at,
    measurement.measured_at_precision,
    measurement.published_at,
    measurement.ingested_at,
    measurement.source_name,
    measurement.source_url,
    coalesce(measurement.recency_rank = 1 and presence.is_current, false) as is_current,
    measurement.is_late_arrival
from measurements as measurement
inner join presence using (offer_key)
