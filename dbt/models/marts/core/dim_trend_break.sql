-- Trend breaks per KPI, for dashboards to mark: from `break_date` on, figures are not comparable with
-- earlier ones without correction.
with trend_breaks as (

    select * from {{ ref('trendbreuken') }}

)

select
    source,
    kpi,
    break_date,
    description
from trend_breaks
