-- One row per youth, municipality (as it is today) and quarter in which the youth had at least one
-- trajectory running, with what kind of care that was. The base of the per-1,000 and flow KPIs.
with trajectories as (

    select
        trajectory.client_pseudo_id,
        code.current_gm_code as gemeente_code,
        trajectory.delivery_period as period_key,
        trajectory.birth_year,
        care.cbs_category,
        care.is_local_team,
        care.is_out_of_home
    from {{ ref('int_tmsd__trajectories_current') }} as trajectory
    inner join {{ ref('dim_gemeente_code') }} as code on code.gm_code = trajectory.gemeente_code
    inner join {{ ref('dim_care_form') }} as care on care.hulpvorm = trajectory.hulpvorm

)

select
    client_pseudo_id,
    gemeente_code,
    period_key,
    -- age at the end of the quarter's year; TMSD delivers the birth year only
    cast(left(period_key, 4) as integer) - max(birth_year) as age,
    -- the 18th birthday falls in this quarter's year (TMSD has no birth date, so not the quarter itself)
    cast(left(period_key, 4) as integer) - max(birth_year) = 18 as turns_18_this_year,
    bool_or(cbs_category = 'jeugdhulp zonder verblijf') as has_care_without_stay,
    bool_or(cbs_category = 'jeugdhulp met verblijf') as has_care_with_stay,
    bool_or(cbs_category = 'jeugdbescherming') as has_child_protection,
    bool_or(cbs_category = 'jeugdreclassering') as has_youth_probation,
    bool_or(is_local_team) as has_local_team_care,
    bool_or(is_out_of_home) as is_placed_out_of_home
from trajectories
group by client_pseudo_id, gemeente_code, period_key
