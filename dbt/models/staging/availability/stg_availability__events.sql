-- One row per validated availability event, renamed and cast; no joins, no filtering.
with source as (

    select * from {{ source('availability', 'events') }}

),

renamed as (

    select
        event_id,
        schema_version,
        -- v1 events (before withdrawals existed) are figures of no full-state feed
        coalesce(event_type, 'figure') as event_type,
        full_state_feed,
        offer_key,
        provider_agb,
        provider_name,
        offer as offer_name,
        product_category,
        care_types,
        is_crisis,
        location as location_text,
        gemeente_code,
        location_gemeente_codes,
        location_is_regional,
        target_group,
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
        source_name,
        source_row,
        _kafka_partition as kafka_partition,
        _kafka_offset as kafka_offset,
        _batch_id as batch_id,
        timezone('UTC', _ingested_at) as ingested_at

    from source

)

select * from renamed
