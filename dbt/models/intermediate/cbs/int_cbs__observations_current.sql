-- The current version of every delivery: a revision (higher version of the same scope and period)
-- replaces exactly the rows of the delivery it revises; older versions stay in stg_cbs__observations.
with observations as (

    select * from {{ ref('stg_cbs__observations') }}

)

select *
from observations
{{ latest_delivery() }}
