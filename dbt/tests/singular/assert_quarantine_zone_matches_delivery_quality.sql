{{ config(severity="warn") }}
-- The quarantine zone and the quality gate's decisions agree: every batch with rows in the quarantine
-- zone has exactly that many rows quarantined in fct_delivery_quality (from the delivery logs and the
-- availability quarantine), and every delivery with rows quarantined has them in the zone. Returns the
-- batches where the two disagree. A warning, not an error: the zone and the logs are written one after the
-- other, and a gap between them is for the operator to look into, not a reason to publish nothing.
with zone as (

    select
        batch_id,
        count(distinct dataset || '|' || origin) as rows_in_zone
    from {{ ref('stg_operations__quarantined_rows') }}
    group by batch_id

),

decided as (

    select
        batch_id,
        rows_quarantined
    from {{ ref('fct_delivery_quality') }}
    where rows_quarantined > 0

)

select
    coalesce(zone.batch_id, decided.batch_id) as batch_id,
    zone.rows_in_zone,
    decided.rows_quarantined
from zone
full outer join decided on zone.batch_id = decided.batch_id
where zone.rows_in_zone is distinct from decided.rows_quarantined
