-- Freshness of every source, for dashboards and `monitorlink status`: when it last landed, the newest
-- period it covers, and how often it is expected (var source_sla_days). Ages are left to the reader
-- (now − last_landed_at), so the table itself is the same on every rebuild of the same data.
with landed as (

    select 'tmsd' as source, max(ingested_at) as last_landed_at, max(delivery_period) as newest_period,
        count(distinct delivery_file) as deliveries
    from {{ ref('stg_tmsd__trajectories') }}
    union all
    select 'chain', max(ingested_at), max(delivery_period), count(distinct delivery_file)
    from {{ ref('stg_chain__milestones') }}
    union all
    select 'education', max(ingested_at), max(delivery_period), count(distinct delivery_file)
    from {{ ref('stg_education__pupils') }}
    union all
    select 'cbs', max(ingested_at), max(period_code), count(distinct delivery_file)
    from {{ ref('stg_cbs__observations') }}
    union all
    select 'availability', max(ingested_at), strftime(max(measured_at), '%Y-%m-%d'), count(distinct batch_id)
    from {{ ref('stg_availability__events') }}

)

select
    landed.source,
    landed.last_landed_at,
    landed.newest_period,
    landed.deliveries,
    sla.expected_every_days,
    sla.grace_days
from landed
inner join (
    select * from (values
        {%- for source, days in var('source_sla_days').items() %}
        ('{{ source }}', {{ days[0] }}, {{ days[1] }}){{ "," if not loop.last }}
        {%- endfor %}
    ) as t(source, expected_every_days, grace_days)
) as sla using (source)
