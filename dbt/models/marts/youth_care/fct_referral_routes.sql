-- KPI referral_routes: trajectories started in a quarter per referrer, and their share of all starts.
with starts as (

    select
        code.current_gm_code as gemeente_code,
        trajectory.delivery_period as period_key,
        trajectory.referrer
    from {{ ref('int_tmsd__trajectories_current') }} as trajectory
    inner join {{ ref('dim_gemeente_code') }} as code on code.gm_code = trajectory.gemeente_code
    inner join {{ ref('dim_period') }} as period on period.period_key = trajectory.delivery_period
    where trajectory.start_date >= period.first_day

)

select
    gemeente_code,
    period_key,
    referrer,
    count(*) as trajectories_started,
    round(100.0 * count(*) / sum(count(*)) over (partition by gemeente_code, period_key), 1) as share_pct,
    1 as definition_version
from starts
group by gemeente_code, period_key, referrer
