-- KPI referral_routes: trajectories started in a quarter per referrer, and their share of all starts.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

starts as (

    select
        gemeente_codes.current_gm_code as gemeente_code,
        trajectories.delivery_period as period_key,
        trajectories.referrer
    from trajectories
    inner join gemeente_codes
        on
            trajectories.gemeente_code = gemeente_codes.gm_code
            and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
    inner join periods on trajectories.delivery_period = periods.period_key
    where trajectories.start_date >= periods.first_day

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
