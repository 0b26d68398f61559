-- Every availability event, figures ranked so the current figure is "newest measured_at wins".
-- Late events (measured before the offer's newest figure but arriving after it) never overwrite it;
-- a figure re-published unchanged (same measured_at) is decided by the later publication. Withdrawals
-- carry no figure, so they have no rank: whether an offer is still listed is int_availability__offer_presence.
with events as (

    select * from {{ ref('stg_availability__events') }}

),

ranked as (

    select
        *,
        -- The KPI figure: the longest of the two published waits. Both are waits counted from
        -- registration, so the longer one is the wait a family experiences at least.
        greatest(wait_weeks_intake, wait_weeks_treatment) as wait_weeks,
        case when event_type = 'figure' then row_number() over newest_first end as recency_rank,
        event_type = 'figure' and coalesce(
            measured_at < max(measured_at) filter (where event_type = 'figure') over (
                partition by offer_key
                order by ingested_at, kafka_partition, kafka_offset
                rows between unbounded preceding and 1 preceding
            ),
            false
        ) as is_late_arrival

    from events
    window newest_first as (
        partition by offer_key, event_type = 'figure'
        order by measured_at desc, published_at desc, event_id desc
    )

)

select * from ranked
