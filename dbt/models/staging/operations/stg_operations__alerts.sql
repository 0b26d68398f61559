-- One row per open alert of `ops/alerts/open.json` (a JSON object keyed by alert id), unpacked with
-- json_each; the alert's free-form details are left in the lake.
with source as (

    select * from {{ source('operations', 'open_alerts') }}

),

renamed as (

    select
        alert.key as alert_id,
        alert.value ->> 'kind' as kind,
        alert.value ->> 'subject' as subject,
        alert.value ->> 'summary' as summary,
        timezone('UTC', (alert.value ->> 'opened_at')::timestamptz) as opened_at

    from source, json_each(source.content) as alert

)

select * from renamed
