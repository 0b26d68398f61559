-- Trend breaks per KPI, for dashboards to mark: from `break_date` on, figures are not comparable with
-- earlier ones without correction.
select source, kpi, break_date, description from {{ ref('trendbreuken') }}
