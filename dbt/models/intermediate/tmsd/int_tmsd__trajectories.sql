-- One row per trajectory across all quarters it was delivered in (newest delivery versions only): its
-- youth, municipality as it is today, form of care, referrer, start, and the end the latest quarter
-- knows. A trajectory is a youth + product + provider + start date.
select
    trajectory.client_pseudo_id,
    trajectory.product_code,
    trajectory.provider_agb,
    trajectory.start_date,
    any_value(code.current_gm_code order by trajectory.delivery_period desc) as gemeente_code,
    any_value(trajectory.hulpvorm order by trajectory.delivery_period desc) as hulpvorm,
    any_value(trajectory.referrer order by trajectory.delivery_period desc) as referrer,
    any_value(trajectory.birth_year order by trajectory.delivery_period desc) as birth_year,
    max(trajectory.end_date) as end_date,
    min(trajectory.delivery_period) as first_period,
    max(trajectory.delivery_period) as last_period,
    -- summed as exact cents: a sum of doubles differs in its last bits with the order threads add them in
    sum(cast(trajectory.cost_eur as decimal(18, 2))) as cost_eur
from {{ ref('int_tmsd__trajectories_current') }} as trajectory
inner join {{ ref('dim_gemeente_code') }} as code on code.gm_code = trajectory.gemeente_code
group by trajectory.client_pseudo_id, trajectory.product_code, trajectory.provider_agb, trajectory.start_date
