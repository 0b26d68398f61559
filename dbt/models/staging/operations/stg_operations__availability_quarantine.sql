-- One row per quarantined availability event: its micro-batch and the rules it broke. The rejected
-- message and its reasons (which quote the event's values) are not selected.
with source as (

    select * from {{ source('operations', 'availability_quarantine') }}

),

renamed as (

    select
        _batch_id as batch_id,
        timezone('UTC', _ingested_at) as ingested_at,
        failed_rules

    from source

)

select * from renamed
