-- KPI transition_18: youths in youth care in the year they turn 18 (18-/18+), and whether their care
-- continues in the following year.
with youth_quarters as (

    select * from {{ ref('int_tmsd__youth_quarters') }}

),

turning_18 as (

    select distinct
        client_pseudo_id,
        gemeente_code,
        cast(left(period_key, 4) as integer) as year
    from youth_quarters
    where age = 18

),

next_year as (

    select distinct
        client_pseudo_id,
        cast(left(period_key, 4) as integer) - 1 as year
    from youth_quarters

)

select
    turning_18.gemeente_code,
    turning_18.year,
    count(*) as youths_turning_18_in_care,
    count(next_year.client_pseudo_id) as youths_care_continues,
    round(100.0 * count(next_year.client_pseudo_id) / count(*), 1) as care_continues_pct,
    turning_18.year < (select max(cast(left(youth_quarters.period_key, 4) as integer)) from youth_quarters)
        as is_follow_up_complete,
    1 as definition_version
from turning_18
left join next_year using (client_pseudo_id, year)
group by turning_18.gemeente_code, turning_18.year
