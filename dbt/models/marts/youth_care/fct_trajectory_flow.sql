-- KPI trajectory_flow (definition in _youth_care__marts.yml): in-, door- en uitstroom of youth-care
-- trajectories per municipality (as it is today) and quarter, from that quarter's newest delivery.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

),

periods as (

    select * from {{ ref('dim_period') }}

),

delivered as (

    select
        gemeente_codes.current_gm_code as gemeente_code,
        trajectories.delivery_period as period_key,
        periods.first_day,
        periods.last_day,
        trajectories.start_date,
        trajectories.end_date
    from trajectories
    inner join gemeente_codes
        on
            trajectories.gemeente_code = gemeente_codes.gm_code
            and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
    inner join periods on trajectories.delivery_period = periods.period_key

),

flows as (

    select
        gemeente_code,
        period_key,
        count(*) filter (where start_date < first_day) as begin_stand,
        count(*) filter (where start_date >= first_day) as instroom,
        count(*) filter (where end_date <= last_day) as uitstroom,
        count(*) filter (where end_date is null or end_date > last_day) as eind_stand,
        avg(end_date - start_date) filter (where end_date <= last_day) as avg_duration_days_ended
    from delivered
    group by gemeente_code, period_key

)

select
    gemeente_code,
    period_key,
    begin_stand,
    instroom,
    uitstroom,
    eind_stand,
    round(avg_duration_days_ended, 1) as avg_duration_days_ended,
    -- what the previous quarter's delivery ended with, against what this one begins with: late
    -- registrations and corrections show up here, not hidden in the flows
    begin_stand - lag(eind_stand) over (partition by gemeente_code order by period_key) as begin_vs_previous_end,
    1 as definition_version
from flows
