-- One row per trajectory across all quarters it was delivered in (newest delivery versions only): its
-- youth, municipality as it is today, form of care, referrer, start, and the end the latest quarter
-- knows. A trajectory is a youth + product + provider + start date.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

gemeente_codes as (

    select * from {{ ref('int_gemeente__codes') }}

)

select
    trajectories.client_pseudo_id,
    trajectories.product_code,
    trajectories.provider_agb,
    trajectories.start_date,
    any_value(gemeente_codes.current_gm_code order by trajectories.delivery_period desc) as gemeente_code,
    any_value(trajectories.hulpvorm order by trajectories.delivery_period desc) as hulpvorm,
    any_value(trajectories.referrer order by trajectories.delivery_period desc) as referrer,
    any_value(trajectories.birth_year order by trajectories.delivery_period desc) as birth_year,
    max(trajectories.end_date) as end_date,
    min(trajectories.delivery_period) as first_period,
    max(trajectories.delivery_period) as last_period,
    -- summed as exact cents: a sum of doubles differs in its last bits with the order threads add them in
    sum(cast(trajectories.cost_eur as decimal(18, 2))) as cost_eur
from trajectories
inner join gemeente_codes
    on
        trajectories.gemeente_code = gemeente_codes.gm_code
        and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
group by
    trajectories.client_pseudo_id,
    trajectories.product_code,
    trajectories.provider_agb,
    trajectories.start_date
