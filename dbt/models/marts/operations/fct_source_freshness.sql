-- Freshness of every source, for dashboards and `monitorlink status`: when it last landed, the newest
-- period it covers, and how often it is expected (var source_sla_days: each contract's `freshness`,
-- passed by the build). Ages are left to the reader (now − last_landed_at), so the table itself is the
-- same on every rebuild of the same data.
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

-- the expected rhythm of each source with its grace (var source_sla_days: each contract's `freshness`)
sla as (

    select
        rhythm.source,
        rhythm.expected_every_days,
        rhythm.grace_days
    from (
        values
        {%- for source, days in var('source_sla_days').items() %}
            ('{{ source }}', {{ days[0] }}, {{ days[1] }}){{ "," if not loop.last }}
        {%- endfor %}
    ) as rhythm (source, expected_every_days, grace_days)

),

landed as (

    select
        'tmsd' as source,
        max(ingested_at) as last_landed_at,
        max(delivery_period) as newest_period,
        count(distinct delivery_file) as deliveries
    from trajectories
    union all
    select
        'chain' as source,
        max(ingested_at) as last_landed_at,
        max(delivery_period) as newest_period,
        count(distinct delivery_file) as deliveries
    from milestones
    union all
    select
        'education' as source,
        max(ingested_at) as last_landed_at,
        max(delivery_period) as newest_period,
        count(distinct delivery_file) as deliveries
    from pupils
    union all
    select
        'cbs' as source,
        max(ingested_at) as last_landed_at,
        max(period_code) as newest_period,
        count(distinct delivery_file) as deliveries
    from observations
    union all
    select
        'availability' as source,
        max(ingested_at) as last_landed_at,
        strftime(max(measured_at), '%Y-%m-%d') as newest_period,
        count(distinct batch_id) as deliveries
    from availability_events

)

select
    landed.source,
    landed.last_landed_at,
    landed.newest_period,
    landed.deliveries,
    sla.expected_every_days,
    sla.grace_days
from landed
inner join sla using (source)
