-- The current version of every delivery: a revision (higher version of the same scope and period)
-- replaces exactly the rows of the delivery it revises; older versions stay in stg_chain__milestones.
with milestones as (

    select * from {{ ref('stg_chain__milestones') }}

)

select *
from milestones
{{ latest_delivery() }}
