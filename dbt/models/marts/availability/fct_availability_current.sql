-- Current state per provider offer: the figure with the newest measured_at (ties: newest publication).
select * exclude (is_current, is_late_arrival, ingested_at, source_name)
from {{ ref('fct_availability_history') }}
where is_current
