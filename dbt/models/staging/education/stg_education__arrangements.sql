-- Education-care arrangements (OZA/OJA) per pupil from every workbook (all versions).. Rename and cast only: no joins, no filtering.
with source as (

    select * from {{ source('education', 'education_arrangements') }}

),

renamed as (

    select
        client_pseudo_id,
        swv_code,
        brin,
        gemeente_code,
        arrangement_type,
        startdatum as start_date,
        einddatum as end_date,
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
