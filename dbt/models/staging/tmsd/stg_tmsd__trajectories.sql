-- Youth-care trajectories of every TMSD delivery (all versions), renamed to English. Rename and cast only:
-- no joins, no filtering. An incremental table, not a view: nationally the lake holds one Parquet file per
-- municipality-quarter (10,000 and more), and every read of them opens each file, so the files are read
-- once per build into this table. A selective build (a copy of the current warehouse) appends only the
-- batches the copy does not hold yet (`lake_increments`, monitorlink/warehouse/increments.py); when a
-- batch left the lake (a backfill or recheck landed it again), the table is rebuilt whole instead.
{{ config(materialized='incremental') }}

with source as (

    {% if is_incremental() %}
        select * from read_parquet(
            {{ var('lake_increments', {}).get('tmsd', [var('lake_inputs', {}).get('tmsd_schema')]) }},
            union_by_name = true
        )
    {% else %}
        select * from {{ source('tmsd', 'trajectories') }}
    {% endif %}

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
