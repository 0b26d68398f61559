-- KPI out_of_home_placements: youths placed out of home (youth care with stay) per municipality,
-- quarter and type of placement: foster care, family home, closed, other residential.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

),

care_forms as (

    select * from {{ ref('dim_care_form') }}

),

periods as (

    select * from {{ ref('dim_period') }}

)

select
    gemeente_codes.current_gm_code as gemeente_code,
    trajectories.delivery_period as period_key,
    care_forms.cbs_subcategory as placement_type,
    count(distinct trajectories.client_pseudo_id) as youths_placed,
    count(distinct trajectories.client_pseudo_id) filter (
        where trajectories.start_date >= periods.first_day
    ) as youths_newly_placed,
    1 as definition_version
from trajectories
inner join gemeente_codes
    on
        trajectories.gemeente_code = gemeente_codes.gm_code
        and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
inner join care_forms on trajectories.hulpvorm = care_forms.hulpvorm
inner join periods on trajectories.delivery_period = periods.period_key
where care_forms.is_out_of_home
group by all
