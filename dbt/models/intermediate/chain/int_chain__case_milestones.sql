-- One row per case and milestone: when it first happened, whoever recorded it, in whichever delivery.
-- Milestones arrive out of order and from several partners; here they are put together per case.
with milestones as (

    select * from {{ ref('int_chain__milestones_current') }}

),

gemeente_codes as (

    select * from {{ ref('int_gemeente__codes') }}

)

select
    milestones.case_pseudo_id,
    any_value(milestones.client_pseudo_id) as client_pseudo_id,
    any_value(gemeente_codes.current_gm_code order by milestones.recorded_at desc) as gemeente_code,
    milestones.milestone,
    min(milestones.occurred_at) as occurred_at,
    any_value(milestones.maatregel order by milestones.occurred_at) as maatregel
from milestones
inner join gemeente_codes
    on
        milestones.gemeente_code = gemeente_codes.gm_code
        and {{ in_allocation_band('gemeente_codes', 'milestones.client_pseudo_id') }}
group by milestones.case_pseudo_id, milestones.milestone
