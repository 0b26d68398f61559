-- The alerts open when the warehouse was built (`ops/alerts/open.json`), with the source each concerns:
-- quality_gate and source_late alerts name it first in their subject (`tmsd/GM0141/2019Q4`,
-- `availability/<provider>`), pipeline failures when the pipeline is a source's, and a norm breach is
-- an availability offer's. The alert checks run after each build, so an alert opened by that run's
-- checks appears with the next build; `monitorlink alerts list` reads the store itself.
select
    alert_id,
    kind,
    subject,
    case
        when kind = 'norm_breach' then 'availability'
        when split_part(subject, '/', 1) in (
            {%- for source in var('source_sla_days') %}'{{ source }}'{{ ", " if not loop.last }}{% endfor -%}
        ) then split_part(subject, '/', 1)
    end as source,
    summary,
    opened_at
from {{ ref('stg_operations__alerts') }}
