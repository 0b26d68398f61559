{{ config(schema='restricted') }}
-- One row per quarantined row (or availability event) and rule it broke, over every dataset's quarantine
-- zone: the dataset (from the file's path), the batch, the rule with the reasons given for it, and where
-- the row came from (file:row, or topic[partition]@offset). The rejected values themselves (`record`,
-- `message`) are not selected; the reasons may quote a value, so this model stays in the restricted
-- schema. A lake without quarantined rows reads an empty relation of the same columns instead.
{%- set lake_root = env_var("MONITORLINK_LAKE_ROOT") %}
{%- set zone = var("lake_inputs", {}).get("quarantine", lake_root ~ "/quarantine/*/**/*.parquet") %}
{%- set has_files = lake_has_files(zone) %}

-- every column read here, typed, so a zone holding only file-feed rows or only availability events (or
-- nothing) has them all
with zone_columns as (

    select
        cast(null as varchar[]) as failed_rules,
        cast(null as varchar[]) as reasons,
        cast(null as varchar) as _batch_id,
        cast(null as timestamptz) as _ingested_at,
        cast(null as varchar) as filename,
        cast(null as varchar) as _delivery_file,
        cast(null as bigint) as _source_row,
        cast(null as varchar) as _kafka_topic,
        cast(null as integer) as _kafka_partition,
        cast(null as bigint) as _kafka_offset
    where false

),

-- the import: the quarantine zone, or (while the lake has none) no rows
quarantine_zone as (

    {% if has_files -%}
        select * from {{ source('operations', 'quarantined_rows') }}
    {%- else -%}
        select * from zone_columns
    {%- endif %}

),

quarantined as (

    select * from zone_columns
    union all by name
    select * from quarantine_zone

),

per_rule as (

    select
        regexp_extract(filename, '.*/quarantine/([^/]+)/', 1) as dataset,
        _batch_id as batch_id,
        unnest(failed_rules) as failed_rule,
        reasons,
        _delivery_file as delivery_file,
        _source_row as source_row,
        _kafka_topic as kafka_topic,
        _kafka_partition as kafka_partition,
        _kafka_offset as kafka_offset,
        timezone('UTC', _ingested_at) as ingested_at
    from quarantined

),

renamed as (

    select
        dataset,
        -- a source's datasets are named after it (education_pupils, education_absence, …)
        split_part(dataset, '_', 1) as source,
        batch_id,
        failed_rule,
        -- the reasons are `rule: reason (column=value)`, one per failure; a rule's own are those it starts
        nullif(array_to_string(list_filter(reasons, reason -> starts_with(reason, failed_rule || ':')), '; '), '')
            as reason,
        case
            when delivery_file is not null then delivery_file || ':' || source_row
            when kafka_topic is not null then kafka_topic || '[' || kafka_partition || ']@' || kafka_offset
        end as origin,
        delivery_file,
        source_row,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        ingested_at
    from per_rule

)

select * from renamed
