-- Per source, rule and severity: how many landed deliveries broke the rule, how often, and when last,
-- for the "rules broken" chart. A critical rule quarantines its delivery (in a micro-batch of events: the
-- events that broke it); a warning lets it pass with a flag. Re-deliveries ignored by checksum landed
-- nothing and are left out (their outcome is in fct_delivery_quality).
with deliveries_logged as (

    select * from {{ ref('stg_operations__deliveries') }}

),

landed as (

    select * from deliveries_logged
    where batch_id is not null

),

rules as (

    select
        source,
        'critical' as severity,
        unnest(map_keys(critical_counts)) as rule,
        unnest(map_values(critical_counts)) as failures,
        outcome = 'quarantined' or cardinality(quarantined_per_dataset) > 0 as is_quarantined,
        processed_at as landed_at,
        batch_id as delivery_id
    from landed
    union all
    select
        source,
        'warning' as severity,
        unnest(map_keys(warning_counts)) as rule,
        unnest(map_values(warning_counts)) as failures,
        outcome = 'quarantined' as is_quarantined,
        processed_at as landed_at,
        batch_id as delivery_id
    from landed

)

select
    source,
    severity,
    rule,
    count(distinct delivery_id) as deliveries_affected,
    count(distinct delivery_id) filter (where is_quarantined) as deliveries_quarantined,
    sum(failures)::bigint as rows_affected,
    max(landed_at) as last_seen_at
from rules
group by source, severity, rule
