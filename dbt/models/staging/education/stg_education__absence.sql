-- Absence (thuiszitters) and exemptions per municipality from every workbook (all versions). Rename and
-- cast only: no joins, no filtering.
with source as (

    select * from {{ source('education', 'absence') }}

),

renamed as (

    select
        swv_code,
        schooljaar as school_year,
        gemeente_code,
        soort_verzuim as absence_kind,
        aantal_leerlingen as pupils,
        aantal_met_jeugdhulp as pupils_with_youth_care,
        {{ delivery_columns() }}

    from source

)

select * from renamed
