-- Waiting time per youth offer per day, for trend charts: every day on which the offer was in the
-- current state — in the newest list of its feed published by that day (or, for an offer known from
-- direct events, from its first figure on). Each day shows the figure in force — the newest measurement
-- published by then — and for how many days in a row, that day included, the offer has been over the
-- norm and owed a herstelplan. A day the offer was withdrawn is no row, so a streak starts again after it.
with history as (

    select * from {{ ref('fct_availability_history') }}

),

events as (

    select * from history
    where target_group = 'jeugd'

),

figures as (

    select * from events
    where event_type = 'figure'

),

lists as (

    select distinct
        full_state_feed,
        published_at
    from history
    where full_state_feed is not null

),

offers as (

    select
        offer_key,
        max(full_state_feed) as full_state_feed,
        cast(min(published_at) as date) as first_day
    from figures
    group by offer_key

),

days as (

    select
        offers.offer_key,
        offers.full_state_feed,
        cast(t.day as date) as day
    from offers,
        range(offers.first_day, (select cast(max(published_at) as date) from events) + interval 1 day, interval 1 day)
            as t (day)

),

listed_days as (

    -- the newest list of the offer's feed by the end of each day, and whether the offer was in it or
    -- has a direct figure newer than it
    select
        days.*,
        (
            select max(lists.published_at) from lists
            where lists.full_state_feed = days.full_state_feed and cast(lists.published_at as date) <= days.day
        ) as list_at
    from days

),

present as (

    select
        listed_days.offer_key,
        listed_days.day
    from listed_days
    where listed_days.full_state_feed is null
        or exists (
            select 1 from figures
            where figures.offer_key = listed_days.offer_key
                and (
                    (figures.full_state_feed is not null and figures.published_at = listed_days.list_at)
                    or (
                        figures.full_state_feed is null and cast(figures.published_at as date) <= listed_days.day
                        and figures.published_at > coalesce(listed_days.list_at, timestamp '1900-01-01')
                    )
                )
        )

),

in_force as (

    select
        present.day,
        figures.*,
        row_number() over (
            partition by present.offer_key, present.day
            order by figures.measured_at desc, figures.published_at desc, figures.event_id desc
        ) as rank_that_day
    from present
    inner join figures
        on present.offer_key = figures.offer_key and cast(figures.published_at as date) <= present.day

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
        measured_at,
        -- a day without a row (withdrawn) breaks a streak
        day - lag(day) over (partition by offer_key order by day) != 1 as follows_a_gap
    from in_force
    where rank_that_day = 1

),

streaks as (

    select
        *,
        -- gaps and islands: a new island starts each day the condition is not met, and after a gap
        count(*) filter (where not coalesce(is_over_norm, false) or follows_a_gap) over by_offer as over_norm_island,
        count(*) filter (where not herstelplan_required or follows_a_gap) over by_offer as herstelplan_island
    from assessed
    window by_offer as (partition by offer_key order by day rows between unbounded preceding and current row)

)

select
    * exclude (over_norm_island, herstelplan_island, follows_a_gap),
    -- days in a row, today included, that the offer has been over the norm / owed a herstelplan
    case
        when is_over_norm then count(*) filter (where is_over_norm) over over_norm_streak
        else 0
    end as days_over_norm,
    case
        when herstelplan_required then count(*) filter (where herstelplan_required) over herstelplan_streak
        else 0
    end as days_herstelplan_owed
from streaks
window
    over_norm_streak as (
        partition by offer_key, over_norm_island order by day rows between unbounded preceding and current row
    ),
    herstelplan_streak as (
        partition by offer_key, herstelplan_island order by day rows between unbounded preceding and current row
    )
