-- Youth-care trajectories of every TMSD delivery (all versions), renamed to English. Rename and cast only:
-- no joins, no filtering.
with source as (

    select * from {{ source('tmsd', 'trajectories') }}

),

renamed as (

    select
        client_pseudo_id,
        geboortejaar as birth_year,
        geslacht as sex,
        gemeente_code,
        wijk_code as district_code,
        verwijzer as referrer,
        hulpvorm,
        productcode as product_code,
        aanbieder_agb as provider_agb,
        segment,
        startdatum as start_date,
        einddatum as end_date,
        reden_beeindiging as end_reason_code,
        crisis as crisis_code,
        kosten_eur as cost_eur,
        {{ delivery_columns() }}

    from source

)

select * from renamed
