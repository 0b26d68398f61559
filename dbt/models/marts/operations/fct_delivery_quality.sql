-- One row per delivery and what the quality gate made of it, for the data-quality dashboard: every line
-- of the file sources' delivery logs (landed, quarantined, or ignored as a re-delivery) and every
-- availability micro-batch (the stream's unit of landing: its events pass or are quarantined one by one).
-- Rule names only; the rows that broke them stay in the lake's quarantine zone.
with files as (

    select
        coalesce(batch_id, 'ignored:' || source || '/' || delivery_name || '@' || left(received_sha256, 16))
            as delivery_id,
        source,
        delivery_name,
        scope,
        case when regexp_full_match(scope, 'GM[0-9]{4}') then scope end as gemeente_code,
        period,
        version,
        outcome,
        batch_id,
        case when batch_id is not null then processed_at end as landed_at,
        processed_at,
        coalesce(list_sum(map_values(rows_per_dataset)), 0)::bigint as rows,
        case when outcome = 'quarantined' then coalesce(list_sum(map_values(rows_per_dataset)), 0) else 0 end::bigint
            as rows_quarantined,
        nullif(array_to_string(list_sort(map_keys(critical_counts)), ', '), '') as critical_rules,
        coalesce(list_sum(map_values(critical_counts)), 0)::bigint as critical_failures,
        nullif(array_to_string(list_sort(map_keys(warning_counts)), ', '), '') as warning_rules,
        coalesce(list_sum(map_values(warning_counts)), 0)::bigint as warnings_raised
    from {{ ref('stg_operations__deliveries') }}

),

availability_validated as (

    select batch_id, min(ingested_at) as landed_at, count(*) as rows_validated
    from {{ ref('stg_availability__events') }}
    group by batch_id

),

availability_quarantined as (

    select
        batch_id,
        min(ingested_at) as landed_at,
        count(*) as rows_quarantined,
        nullif(array_to_string(list_sort(list_distinct(flatten(list(failed_rules)))), ', '), '') as critical_rules,
        coalesce(sum(len(failed_rules)), 0)::bigint as critical_failures
    from {{ ref('stg_operations__availability_quarantine') }}
    group by batch_id

),

availability as (

    select
        batch_id as delivery_id,
        'availability' as source,
        null::varchar as delivery_name,
        null::varchar as scope,
        null::varchar as gemeente_code,
        null::varchar as period,
        null::integer as version,
        case
            when coalesce(q.rows_quarantined, 0) = 0 then 'validated'
            when coalesce(v.rows_validated, 0) = 0 then 'quarantined'
            else 'partly_quarantined'
        end as outcome,
        batch_id,
        least(v.landed_at, q.landed_at) as landed_at,
        least(v.landed_at, q.landed_at) as processed_at,
        coalesce(v.rows_validated, 0) + coalesce(q.rows_quarantined, 0) as rows,
        coalesce(q.rows_quarantined, 0) as rows_quarantined,
        q.critical_rules,
        coalesce(q.critical_failures, 0) as critical_failures,
        null::varchar as warning_rules,
        0::bigint as warnings_raised
    from availability_validated as v
    full outer join availability_quarantined as q using (batch_id)

),

deliveries as (

    select * from files
    union all by name
    select * from availability

)

select
    delivery_id,
    source,
    delivery_name,
    scope,
    gemeente_code,
    period,
    version,
    outcome,
    rows_quarantined > 0 as is_quarantined,
    batch_id,
    landed_at,
    processed_at,
    rows,
    rows_quarantined,
    critical_rules,
    critical_failures,
    warning_rules,
    warnings_raised
from deliveries
