-- KPI out_of_home_placements: youths placed out of home (youth care with stay) per municipality,
-- quarter and type of placement: foster care, family home, closed, other residential.
select
    code.current_gm_code as gemeente_code,
    trajectory.delivery_period as period_key,
    care.cbs_subcategory as placement_type,
    count(distinct trajectory.client_pseudo_id) as youths_placed,
    count(distinct trajectory.client_pseudo_id) filter (where trajectory.start_date >=
        period.first_day) as youths_newly_placed,
    1 as definition_version
from {{ ref('int_tmsd__trajectories_current') }} as trajectory
inner join {{ ref('dim_gemeente_code') }} as code on code.gm_code = trajectory.gemeente_code
inner join {{ ref('dim_care_form') }} as care on care.hulpvorm = trajectory.hulpvorm
inner join {{ ref('dim_period') }} as period on period.period_key = trajectory.delivery_period
where care.is_out_of_home
group by all
