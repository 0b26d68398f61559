-- One row per line of the delivery logs (every source: a delivery, or a micro-batch of events), taken out
-- of its JSON and cast; no joins, no filtering. The log's samples (rows that broke a rule) and file
-- locations are not selected.
with source as (

    select * from {{ source('operations', 'deliveries') }}

),

renamed as (

    select
        json ->> 'source' as source,
        json ->> 'name' as delivery_name,
        json ->> 'received_sha256' as received_sha256,
        json ->> 'outcome' as outcome,
        json ->> 'scope' as scope,
        json ->> 'period' as period,
        (json ->> 'version')::integer as version,
        json ->> 'batch_id' as batch_id,
        (json -> 'rows')::map(varchar, bigint) as rows_per_dataset,  -- noqa: LT01
        coalesce((json -> 'quarantined')::map(varchar, bigint), map()) as quarantined_per_dataset,  -- noqa: LT01
        (json -> 'critical')::map(varchar, bigint) as critical_counts,  -- noqa: LT01
        (json -> 'warnings')::map(varchar, bigint) as warning_counts,  -- noqa: LT01
        (json ->> 'pseudonymised')::bigint as values_pseudonymised,
        json ->> 'duplicate_of' as duplicate_of,
        timezone('UTC', (json ->> 'processed_at')::timestamptz) as processed_at

    from source

)

select * from renamed
