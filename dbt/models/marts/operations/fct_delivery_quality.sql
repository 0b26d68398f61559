-- One row per delivery and what the quality gate made of it, for the data-quality dashboard: every line
-- of every source's delivery log — a file or API delivery (landed, quarantined, or ignored as a
-- re-delivery) or a micro-batch of events (whose events pass or are quarantined one by one, so a batch
-- can be partly quarantined). Rule names only; the rows that broke them stay in the quarantine zone.
with deliveries_logged as (

    select * from {{ ref('stg_operations__deliveries') }}

),

counted as (

    select
        *,
        coalesce(list_sum(map_values(rows_per_dataset)), 0)::bigint as rows_logged,
        coalesce(list_sum(map_values(quarantined_per_dataset)), 0)::bigint as rows_quarantined_one_by_one
    from deliveries_logged

)

select
    coalesce(batch_id, 'ignored:' || source || '/' || delivery_name || '@' || left(received_sha256, 16))
        as delivery_id,
    source,
    delivery_name,
    scope,
    case when regexp_full_match(scope, 'GM[0-9]{4}') then scope end as gemeente_code,
    period,
    version,
    case
        when outcome = 'validated' and rows_quarantined_one_by_one > 0 then 'partly_quarantined'
        else outcome
    end as outcome,
    outcome = 'quarantined' or rows_quarantined_one_by_one > 0 as is_quarantined,
    batch_id,
    case when batch_id is not null then processed_at end as landed_at,
    processed_at,
    rows_logged + rows_quarantined_one_by_one as rows,
    case when outcome = 'quarantined' then rows_logged else 0 end + rows_quarantined_one_by_one as rows_quarantined,
    nullif(array_to_string(list_sort(map_keys(critical_counts)), ', '), '') as critical_rules,
    coalesce(list_sum(map_values(critical_counts)), 0)::bigint as critical_failures,
    nullif(array_to_string(list_sort(map_keys(warning_counts)), ', '), '') as warning_rules,
    coalesce(list_sum(map_values(warning_counts)), 0)::bigint as warnings_raised
from counted
