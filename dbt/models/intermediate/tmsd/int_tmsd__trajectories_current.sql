-- The current version of every delivery: a revision (higher version of the same scope and period)
-- replaces exactly the rows of the delivery it revises; older versions stay in stg_tmsd__trajectories.
with trajectories as (

    select * from {{ ref('stg_tmsd__trajectories') }}

)

select *
from trajectories
{{ latest_delivery() }}
