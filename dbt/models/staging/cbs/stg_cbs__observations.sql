-- CBS StatLine observations of every fetch, one row per measure, region, period and dimension combination.. Rename and cast only: no joins, no filtering.
with source as (

    select * from {{ source('cbs', 'cbs') }}

),

renamed as (

    select
        table_id,
        api_version,
        measure,
        measure_title,
        unit,
        region_code,
        period_code,
        period_year,
        dimensions,
        value,
        value_attribute,
        is_suppressed,
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
