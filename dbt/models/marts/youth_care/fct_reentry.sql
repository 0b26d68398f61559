-- KPI reentry_12_months: of the youths whose youth care ended in a quarter (no trajectory running after
-- that end), how many started youth care again within 12 months.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories') }}

),

episodes as (

    select
        ended.client_pseudo_id,
        ended.gemeente_code,
        ended.start_date,
        ended.end_date,
        -- the youth's care runs on after this end when another trajectory covers the day after it
        exists(
            select 1 from trajectories as other
            where
                other.client_pseudo_id = ended.client_pseudo_id
                and other.start_date <= ended.end_date
                and (other.end_date is null or other.end_date > ended.end_date)
        ) as care_continues
    from trajectories as ended
    where ended.end_date is not null

),

care_ends as (

    select
        client_pseudo_id,
        gemeente_code,
        max(end_date) as ended_on
    from episodes
    where not care_continues
    group by client_pseudo_id, gemeente_code, date_trunc('quarter', end_date)

),

followed as (

    select
        ends.gemeente_code,
        strftime(ends.ended_on, '%Y') || 'Q' || quarter(ends.ended_on) as period_key,
        ends.client_pseudo_id,
        ends.ended_on,
        exists(
            select 1 from trajectories as later
            where
                later.client_pseudo_id = ends.client_pseudo_id
                and later.start_date > ends.ended_on
                and later.start_date <= ends.ended_on + interval 12 month
        ) as reentered_within_12_months
    from care_ends as ends

)

select
    gemeente_code,
    period_key,
    count(distinct client_pseudo_id) as youths_care_ended,
    count(distinct client_pseudo_id) filter (where reentered_within_12_months) as youths_reentered_12m,
    round(
        100.0 * count(distinct client_pseudo_id) filter (where reentered_within_12_months)
        / count(distinct client_pseudo_id),
        1
    ) as reentry_pct,
    -- a quarter is complete once 12 months have passed since its end, as far as the data reaches
    max(ended_on) + interval 12 month <= (select max(trajectories.start_date) from trajectories)
        as is_follow_up_complete,
    1 as definition_version
from followed
group by gemeente_code, period_key
