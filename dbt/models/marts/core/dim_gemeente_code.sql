-- Every municipality code a source may deliver, with the municipality it belongs to today (built in
-- int_gemeente__codes, which the intermediate models read too). Facts join on `gm_code` and group by
-- `current_gm_code`, so history rolls up to today's municipality without double counting.
with codes as (

    select * from {{ ref('int_gemeente__codes') }}

)

select
    gm_code,
    naam,
    current_gm_code,
    current_naam,
    valid_until,
    is_current,
    is_twente,
    allocation_from,
    allocation_to,
    allocation_share
from codes
