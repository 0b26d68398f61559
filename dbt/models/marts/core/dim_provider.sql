-- Care providers by AGB code as TMSD delivers them: when they were first and last seen and how many
-- trajectories they carried. (The availability feed names providers but rarely gives an AGB code; the
-- two are not linked until providers publish their AGB — an open question for the region.)
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories') }}

)

select
    provider_agb,
    min(start_date) as first_trajectory_start,
    max(last_period) as last_delivered_period,
    count(*) as trajectories
from trajectories
group by provider_agb
