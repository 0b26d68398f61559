-- The current version of every delivery: a revision (higher version of the same scope and period)
-- replaces exactly the rows of the delivery it revises; older versions stay in stg_education__absence.
with absence as (

    select * from {{ ref('stg_education__absence') }}

)

select *
from absence
{{ latest_delivery() }}
