{{ config(schema='restricted') }}
-- Education-care arrangements (OZA/OJA) per pupil from every workbook (all versions). Rename and cast only:
-- no joins, no filtering.
with source as (

    select * from {{ source('education', 'arrangements') }}

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
        {{ delivery_columns() }}

    from source

)

select * from renamed
