-- KPI normalising (a proxy, see caveats): per municipality and quarter, youths helped by the local team
-- only, against youths in referred (specialised) youth care, both per 1,000 youths 0–17.
with youth_quarters as (

    select * from {{ ref('int_tmsd__youth_quarters') }}

),

trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

care_forms as (

    select * from {{ ref('dim_care_form') }}

),

gemeente_years as (

    select * from {{ ref('dim_gemeente_year') }}

),

-- a youth with any trajectory in the quarter that is not local-team care, in whichever municipality
referred_care as (

    select distinct
        trajectories.client_pseudo_id,
        trajectories.delivery_period as period_key
    from trajectories
    inner join care_forms on trajectories.hulpvorm = care_forms.hulpvorm
    where not care_forms.is_local_team

),

youths as (

    select
        youth_quarters.gemeente_code,
        youth_quarters.period_key,
        youth_quarters.client_pseudo_id,
        youth_quarters.has_local_team_care
        and not (
            youth_quarters.has_care_with_stay
            or youth_quarters.has_child_protection
            or youth_quarters.has_youth_probation
        )
        and not exists (
            select 1 from referred_care
            where
                referred_care.client_pseudo_id = youth_quarters.client_pseudo_id
                and referred_care.period_key = youth_quarters.period_key
        ) as local_team_only
    from youth_quarters
    where youth_quarters.age between 0 and 17

),

population as (

    select
        gemeente_code,
        year,
        youths_0_17
    from gemeente_years

)

select
    youths.gemeente_code,
    youths.period_key,
    count(*) filter (where youths.local_team_only) as youths_local_team_only,
    count(*) filter (where not youths.local_team_only) as youths_referred_care,
    round(
        1000.0 * count(*) filter (where youths.local_team_only) / nullif(any_value(population.youths_0_17), 0), 1
    ) as local_team_only_per_1000,
    round(
        1000.0 * count(*) filter (where not youths.local_team_only) / nullif(any_value(population.youths_0_17), 0), 1
    ) as referred_care_per_1000,
    1 as definition_version
from youths
left join population
    on
        youths.gemeente_code = population.gemeente_code
        and cast(left(youths.period_key, 4) as integer) = population.year
group by youths.gemeente_code, youths.period_key
