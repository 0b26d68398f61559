-- Waiting time per youth offer per day, for trend charts: from the day an offer was first published to
-- the day before it left its list (or the newest day in the feed). Each day shows the figure in force
-- that day — the newest measurement published by then — and for how many days in a row the offer has
-- been over the norm and owed a herstelplan (today included).
with figures as (

    select * from {{ ref('fct_availability_history') }}
    where event_type = 'figure' and target_group = 'jeugd'

),

spans as (

    select
        offer_key,
        cast(first_published_at as date) as first_day,
        cast(coalesce(withdrawn_at - interval 1 day, (select max(published_at) from figures)) as date) as last_day
    from {{ ref('int_availability__offer_presence') }}
    where offer_key in (select offer_key from figures)

),

days as (

    select spans.offer_key, cast(day as date) as day
    from spans, range(spans.first_day, spans.last_day + interval 1 day, interval 1 day) as t(day)

),

in_force as (

    select
        days.day,
        figures.*,
        row_number() over (
            partition by days.offer_key, days.day
            order by figures.measured_at desc, figures.published_at desc, figures.event_id desc
        ) as rank_that_day
    from days
    inner join figures
        on figures.offer_key = days.offer_key and cast(figures.published_at as date) <= days.day

),

assessed as (

    select
        day,
        offer_key,
        provider_name,
        offer_name,
        location_text,
        gemeente_code,
        wait_weeks_intake,
        wait_weeks_treatment,
        wait_weeks,
        {{ wait_norm_assessment() }},
        measured_at
    from in_force
    where rank_that_day = 1

),

streaks as (

    select
        *,
        -- gaps and islands: a new island starts each day the condition is not met
        count(*) filter (where not coalesce(is_over_norm, false)) over by_offer as over_norm_island,
        count(*) filter (where not herstelplan_required) over by_offer as herstelplan_island
    from assessed
    window by_offer as (partition by offer_key order by day rows between unbounded preceding and current row)

)

select
    * exclude (over_norm_island, herstelplan_island),
    -- days in a row, today included, that the offer has been over the norm / owed a herstelplan
    case when is_over_norm then count(*) filter (where is_over_norm) over (
        partition by offer_key, over_norm_island order by day rows between unbounded preceding and current row
    ) else 0 end as days_over_norm,
    case when herstelplan_required then count(*) filter (where herstelplan_required) over (
        partition by offer_key, herstelplan_island order by day rows between unbounded preceding and current row
    ) else 0 end as days_herstelplan_owed
from streaks
