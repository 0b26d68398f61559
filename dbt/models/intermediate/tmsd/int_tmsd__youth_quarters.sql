-- One row per youth, municipality (as it is today) and quarter in which the youth had at least one
-- trajectory running, with what kind of care that was. The base of the per-1,000 and flow KPIs.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

gemeente_codes as (

    select * from {{ ref('int_gemeente__codes') }}

),

care_forms as (

    select * from {{ ref('stg_reference__care_forms') }}

),

classified as (

    select
        trajectories.client_pseudo_id,
        gemeente_codes.current_gm_code as gemeente_code,
        trajectories.delivery_period as period_key,
        trajectories.birth_year,
        care_forms.cbs_category,
        care_forms.is_local_team,
        care_forms.is_out_of_home
    from trajectories
    inner join gemeente_codes
        on
            trajectories.gemeente_code = gemeente_codes.gm_code
            and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
    inner join care_forms on trajectories.hulpvorm = care_forms.hulpvorm

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
from classified
group by client_pseudo_id, gemeente_code, period_key
