-- The alerts open when the warehouse was built (`ops/alerts/open.json`), with the source each concerns:
-- quality_gate and source_late alerts name it first in their subject (`tmsd/GM0141/2019Q4`,
-- `availability/<provider>`), pipeline failures when the pipeline is a source's, and a norm breach is
-- an availability offer's. The alert checks run after each build, so an alert opened by that run's
-- checks appears with the next build; `monitorlink alerts list` reads the store itself.
with alerts as (

    select * from {{ ref('stg_operations__alerts') }}

),

subjects as (

    select
        *,
        -- quality_gate and source_late alerts name their source first: tmsd/GM0141/2019Q4
        split_part(subject, '/', 1) as subject_head
    from alerts

)

select
    alert_id,
    kind,
    subject,
    case
        when kind = 'norm_breach' then 'availability'
        when subject_head in ({{ "'" ~ var('source_sla_days').keys() | join("', '") ~ "'" }}) then subject_head
    end as source,
    summary,
    opened_at
from subjects
