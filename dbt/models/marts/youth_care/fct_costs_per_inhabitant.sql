-- KPI costs_per_inhabitant: youth-care costs delivered in TMSD per inhabitant, per municipality and year,
-- with how much of the trajectories carried a cost (coverage), since the cost column is optional.
with trajectories as (

    select * from {{ ref('int_tmsd__trajectories_current') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

),

gemeente_years as (

    select * from {{ ref('dim_gemeente_year') }}

),

costs as (

    select
        gemeente_codes.current_gm_code as gemeente_code,
        cast(left(trajectories.delivery_period, 4) as integer) as year,
        sum(cast(trajectories.cost_eur as decimal(18, 2))) as cost_eur,  -- exact cents, same result every run
        count(trajectories.cost_eur) as rows_with_cost,
        count(*) as rows_total
    from trajectories
    inner join gemeente_codes
        on
            trajectories.gemeente_code = gemeente_codes.gm_code
            and {{ in_allocation_band('gemeente_codes', 'trajectories.client_pseudo_id') }}
    group by all

),

inhabitants as (

    select
        gemeente_code,
        year,
        inhabitants
    from gemeente_years

)

select
    costs.gemeente_code,
    costs.year,
    round(costs.cost_eur, 2) as cost_eur,
    inhabitants.inhabitants,
    round(costs.cost_eur / nullif(inhabitants.inhabitants, 0), 2) as cost_per_inhabitant_eur,
    round(100.0 * costs.rows_with_cost / costs.rows_total, 1) as cost_coverage_pct,
    1 as definition_version
from costs
left join inhabitants using (gemeente_code, year)
