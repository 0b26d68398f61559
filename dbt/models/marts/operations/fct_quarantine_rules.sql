-- Per source, rule and severity: how many landed deliveries broke the rule, how often, and when last,
-- for the "rules broken" chart. A critical rule quarantines its delivery (for availability: its event);
-- a warning lets it pass with a flag. Re-deliveries ignored by checksum landed nothing and are left out
-- (their outcome is in fct_delivery_quality).
with file_rules as (

    select
        source,
        'critical' as severity,
        unnest(map_keys(critical_counts)) as rule,
        unnest(map_values(critical_counts)) as failures,
        outcome = 'quarantined' as is_quarantined,
        processed_at as landed_at,
        batch_id as delivery_id
    from {{ ref('stg_operations__deliveries') }}
    where batch_id is not null
    union all
    select
        source,
        'warning',
        unnest(map_keys(warning_counts)),
        unnest(map_values(warning_counts)),
        outcome = 'quarantined',
        processed_at,
        batch_id
    from {{ ref('stg_operations__deliveries') }}
    where batch_id is not null

),

availability_rules as (

    select
        'availability' as source,
        'critical' as severity,
        rule,
        count(*) as failures,
        true as is_quarantined,
        min(ingested_at) as landed_at,
        batch_id as delivery_id
    from (
        select batch_id, ingested_at, unnest(failed_rules) as rule
        from {{ ref('stg_operations__availability_quarantine') }}
    )
    group by batch_id, rule

),

rules as (

    select * from file_rules
    union all by name
    select * from availability_rules

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
