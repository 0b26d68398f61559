-- Child-protection chain milestones of every delivery (all versions). Rename and cast only: no joins, no filtering.
with source as (

    select * from {{ source('chain', 'chain') }}

),

renamed as (

    select
        case_pseudo_id,
        client_pseudo_id,
        gemeente_code,
        partner,
        partner_naam as partner_name,
        milestone,
        maatregel,
        timezone('UTC', occurred_at) as occurred_at,
        timezone('UTC', recorded_at) as recorded_at,
        _delivery_file as delivery_file,
        _delivery_sha256 as delivery_sha256,
        _delivery_scope as delivery_scope,
        _delivery_period as delivery_period,
        _delivery_version as delivery_version,
        _source_row as source_row,
        _quality_flags as quality_flags,
        _batch_id as batch_id,
        timezone('UTC', _ingested_at) as ingested_at

    from source

)

select * from renamed
