-- Freshness of every source, for dashboards: when it last landed, the newest period its data covers and
-- the day that period ends, the policy (var source_sla_days: each contract's `freshness` as [every, grace,
-- lag] days, passed by the build), and lateness on both clocks of monitorlink.core.contracts.Freshness:
-- late once nothing landed for every + grace days, or once the newest period ended more than every + lag
-- + grace days ago. late_after is that moment (compare it with now); data_age_days and is_late are
-- judged at checked_at, the newest landing of any source, not at the build's wall clock: so the table is
-- the same on every rebuild of the same data, and a source that stopped is late as soon as others land
-- on. `monitorlink status` and the `source_late` alert judge at their own moment by the same rules.
with trajectories as (

    select * from {{ ref('stg_tmsd__trajectories') }}

),

milestones as (

    select * from {{ ref('stg_chain__milestones') }}

),

pupils as (

    select * from {{ ref('stg_education__pupils') }}

),

observations as (

    select * from {{ ref('stg_cbs__observations') }}

),

availability_events as (

    select * from {{ ref('stg_availability__events') }}

),

-- each source's policy (var source_sla_days: each contract's `freshness`, [every, grace, lag] days)
sla as (

    select
        policy.source,
        policy.expected_every_days,
        policy.grace_days,
        policy.lag_days
    from (
        values
        {%- for source, days in var('source_sla_days').items() %}
            {%- if days | length != 3 %}
                {{- exceptions.raise_compiler_error(
                    'var source_sla_days: ' ~ source ~ ' needs [every, grace, lag] days, not ' ~ days
                ) }}
            {%- endif %}
            ('{{ source }}', {{ days[0] }}, {{ days[1] }}, {{ days[2] }}){{ "," if not loop.last }}
        {%- endfor %}
    ) as policy (source, expected_every_days, grace_days, lag_days)

),

landed as (

    select
        'tmsd' as source,
        max(ingested_at) as last_landed_at,
        count(distinct delivery_file) as deliveries
    from trajectories
    union all
    select
        'chain' as source,
        max(ingested_at) as last_landed_at,
        count(distinct delivery_file) as deliveries
    from milestones
    union all
    select
        'education' as source,
        max(ingested_at) as last_landed_at,
        count(distinct delivery_file) as deliveries
    from pupils
    union all
    select
        'cbs' as source,
        max(ingested_at) as last_landed_at,
        count(distinct delivery_file) as deliveries
    from observations
    union all
    select
        'availability' as source,
        max(ingested_at) as last_landed_at,
        count(distinct batch_id) as deliveries
    from availability_events

),

-- the periods each source's data covers: its deliveries' periods, CBS's period codes, and the day of the
-- newest availability measurement (UTC)
periods as (

    select distinct
        'tmsd' as source,
        delivery_period as period
    from trajectories
    union all
    select distinct
        'chain' as source,
        delivery_period as period
    from milestones
    union all
    select distinct
        'education' as source,
        delivery_period as period
    from pupils
    union all
    select distinct
        'cbs' as source,
        period_code as period
    from observations
    union all
    select
        'availability' as source,
        strftime(max(measured_at), '%Y-%m-%d') as period
    from availability_events

),

period_ends as (

    select
        source,
        period,
        {{ period_end('period') }} as data_until
    from periods

),

-- the period that ends last (not the text maximum: CBS's 2025JJ00 ends after 2025MM03); on a tie the
-- greater code, as monitorlink.ops.status.newest_period picks. Periods that cannot be read do not count.
newest as (

    select
        source,
        arg_max(period, { 'data_until': data_until, 'period': period }) as newest_period,
        max(data_until) as data_until
    from period_ends
    where data_until is not null
    group by source

),

judged as (

    select
        landed.source,
        landed.last_landed_at,
        newest.newest_period,
        landed.deliveries,
        sla.expected_every_days,
        sla.grace_days,
        sla.lag_days,
        newest.data_until,
        -- late after either clock runs out (the data clock counts from midnight UTC after data_until)
        least(
            landed.last_landed_at + to_days(sla.expected_every_days + sla.grace_days),
            cast(newest.data_until + 1 as timestamp) + to_days(sla.expected_every_days + sla.lag_days + sla.grace_days)
        ) as late_after,
        max(landed.last_landed_at) over () as checked_at
    from landed
    inner join sla using (source)
    left join newest using (source)

)

select
    source,
    last_landed_at,
    newest_period,
    deliveries,
    expected_every_days,
    grace_days,
    lag_days,
    data_until,
    round(date_diff('microsecond', cast(data_until + 1 as timestamp), checked_at) / 86400e6, 1) as data_age_days,
    late_after,
    -- never landed, or checked after either clock ran out
    last_landed_at is null or checked_at > late_after as is_late,
    checked_at
from judged
