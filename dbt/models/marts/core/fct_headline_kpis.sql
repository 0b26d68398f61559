-- The region's headline KPIs for the end-of-run summary (`make run`) and anyone who wants the latest
-- figures at a glance: one row for Twente, each figure with the period it is about. Youth care, the
-- trajectory flow and out-of-home placements are about the newest quarter of fct_trajectory_flow; the
-- chain and education figures about their own newest quarter; CBS's national benchmark about its newest
-- year (a yearly count, higher than any quarter's by construction). Unsuppressed, from the marts it
-- summarises, over the region's municipalities only (a national deployment delivers all 342); no row
-- while the newest quarter has no region figure.
with region as (

    select gemeente_code from {{ ref('dim_gemeente') }}

),

youth_care as (

    select * from {{ ref('fct_youth_care_per_1000') }}

),

trajectory_flow as (

    select * from {{ ref('fct_trajectory_flow') }}
    where gemeente_code in (select region.gemeente_code from region)

),

placements as (

    select * from {{ ref('fct_out_of_home_placements') }}
    where gemeente_code in (select region.gemeente_code from region)

),

waiting_for_guardian as (

    select * from {{ ref('fct_chain_waiting_for_guardian') }}
    where gemeente_code in (select region.gemeente_code from region)

),

education as (

    select * from {{ ref('fct_education_youth_care') }}
    where gemeente_code in (select region.gemeente_code from region)

),

latest as (

    select max(period_key) as period_key
    from trajectory_flow

),

care as (

    select
        youth_care.youths_in_care,
        youth_care.per_1000,
        youth_care.gemeenten_in_total,
        youth_care.gemeenten_expected,
        youth_care.is_complete
    from youth_care
    inner join latest on youth_care.period_key = latest.period_key
    where youth_care.level = 'regio' and youth_care.care_form = 'totaal'

),

national as (

    select
        cast(left(period_key, 4) as integer) as national_year,
        any_value(national_per_1000_year) as national_per_1000_year
    from youth_care
    where care_form = 'totaal' and national_per_1000_year is not null
    group by national_year
    order by national_year desc
    limit 1

),

flow as (

    select
        cast(sum(trajectory_flow.begin_stand) as bigint) as begin_stand,
        cast(sum(trajectory_flow.instroom) as bigint) as instroom,
        cast(sum(trajectory_flow.uitstroom) as bigint) as uitstroom,
        cast(sum(trajectory_flow.eind_stand) as bigint) as eind_stand,
        -- the municipalities' averages weighted by their ended trajectories: the region's average
        round(
            sum(trajectory_flow.avg_duration_days_ended * trajectory_flow.uitstroom) / sum(trajectory_flow.uitstroom)
        ) as avg_duration_days_ended
    from trajectory_flow
    inner join latest on trajectory_flow.period_key = latest.period_key

),

placed as (

    select cast(sum(placements.youths_placed) as bigint) as youths_placed_out_of_home
    from placements
    inner join latest on placements.period_key = latest.period_key

),

guardian as (

    select
        period_key as guardian_period_key,
        cast(sum(cases_waiting) as bigint) as cases_waiting_for_guardian
    from waiting_for_guardian
    where period_key = (select max(guardian_quarters.period_key) from waiting_for_guardian as guardian_quarters)
    group by period_key

),

school as (

    select
        period_key as school_period_key,
        cast(sum(thuiszitters) as bigint) as thuiszitters,
        cast(sum(thuiszitters_with_youth_care) as bigint) as thuiszitters_with_youth_care
    from education
    where period_key = (select max(school_quarters.period_key) from education as school_quarters)
    group by period_key

)

select
    'Twente' as region,
    latest.period_key,
    care.youths_in_care,
    care.per_1000,
    care.gemeenten_in_total,
    care.gemeenten_expected,
    care.is_complete,
    national.national_year,
    national.national_per_1000_year,
    flow.begin_stand,
    flow.instroom,
    flow.uitstroom,
    flow.eind_stand,
    flow.avg_duration_days_ended,
    placed.youths_placed_out_of_home,
    guardian.guardian_period_key,
    guardian.cases_waiting_for_guardian,
    school.school_period_key,
    school.thuiszitters,
    school.thuiszitters_with_youth_care,
    1 as definition_version
from latest
cross join care
cross join flow
cross join placed
left join national on true
left join guardian on true
left join school on true
