-- Pupils per school, municipality and school type from every workbook (all versions). Rename and cast only:
-- no joins, no filtering.
with source as (

    select * from {{ source('education', 'pupils') }}

),

renamed as (

    select
        swv_code,
        peildatum as count_date,
        brin,
        gemeente_code,
        onderwijssoort as school_type,
        aantal_leerlingen as pupils,
        aantal_met_tlv as pupils_with_tlv,
        {{ delivery_columns() }}

    from source

)

select * from renamed
