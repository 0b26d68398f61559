-- Quarantined rows per day, dataset and rule, for the data-quality dashboard: how many rows (file rows,
-- or availability events) the quality gate sent to the quarantine zone for breaking each rule, in how
-- many batches. Read from the quarantine zone itself, so every dataset of every source counts, file
-- feeds and the stream alike. Rule names and counts only: the rows, their values and the reasons that
-- quote them stay in the restricted schema (stg_operations__quarantined_rows).
with quarantined_rows as (

    select * from {{ ref('stg_operations__quarantined_rows') }}

)

select
    cast(ingested_at as date) as quarantined_on,
    source,
    dataset,
    failed_rule as rule,
    count(*) as rows_quarantined,
    count(distinct batch_id) as batches,
    max(ingested_at) as last_seen_at
from quarantined_rows
group by all
