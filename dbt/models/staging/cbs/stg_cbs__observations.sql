-- CBS StatLine observations of every fetch, one row per measure, region, period and dimension combination.
-- Rename and cast only: no joins, no filtering.
with source as (

    select * from {{ source('cbs', 'observations') }}

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
        {{ delivery_columns() }}

    from source

)

select * from renamed
