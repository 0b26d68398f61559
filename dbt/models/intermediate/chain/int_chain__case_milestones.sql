-- One row per case and milestone: when it first happened, whoever recorded it, in whichever delivery.
-- Milestones arrive out of order and from several partners; here they are put together per case.
select
    milestone.case_pseudo_id,
    any_value(milestone.client_pseudo_id) as client_pseudo_id,
    any_value(code.current_gm_code order by milestone.recorded_at desc) as gemeente_code,
    milestone.milestone,
    min(milestone.occurred_at) as occurred_at,
    any_value(milestone.maatregel order by milestone.occurred_at) as maatregel
from {{ ref('int_chain__milestones_current') }} as milestone
inner join {{ ref('dim_gemeente_code') }} as code on code.gm_code = milestone.gemeente_code
group by milestone.case_pseudo_id, milestone.milestone
