-- Youth-care trajectories of every TMSD delivery (all versions), renamed to English. Rename and cast only:
-- no joins, no filtering. A table, not a view: nationally the lake holds one Parquet file per
-- municipality-quarter (10,000 and more) and every read opens each of them, so each build reads the
-- files once, here, and the models and tests downstream read this table.
{{ config(materialized='table') }}

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
