-- KPI normalising (a proxy, see caveats): per municipality and quarter, youths helped by the local team
-- only, against youths in referred (specialised) youth care, both per 1,000 youths 0–17.
with youths as (

    select
        gemeente_code,
        period_key,
        client_pseudo_id,
        has_local_team_care and not (has_care_with_stay or has_child_protection or has_youth_probation)
            and not exists (
                select 1 from {{ ref('int_tmsd__trajectories_current') }} as other
                inner join {{ ref('dim_care_form') }} as care on care.hulpvorm = other.hulpvorm
                where other.client_pseudo_id = q.client_pseudo_id
                    and other.delivery_period = q.period_key and not care.is_local_team
            ) as local_team_only
    from {{ ref('int_tmsd__youth_quarters') }} as q
    where age between 0 and 17

),

population as (

    select gemeente_code, year, youths_0_17 from {{ ref('dim_gemeente_year') }}

)

select
    youths.gemeente_code,
    youths.period_key,
    count(*) filter (where local_team_only) as youths_local_team_only,
    count(*) filter (where not local_team_only) as youths_referred_care,
    round(1000.0 * count(*) filter (where local_team_only) / nullif(any_value(population.youths_0_17), 0), 1)
        as local_team_only_per_1000,
    round(1000.0 * count(*) filter (where not local_team_only) / nullif(any_value(population.youths_0_17), 0), 1)
        as referred_care_per_1000,
    1 as definition_version
from youths
left join population
    on population.gemeente_code = youths.gemeente_code
    and population.year = cast(left(youths.period_key, 4) as integer)
group by youths.gemeente_code, youths.period_key
