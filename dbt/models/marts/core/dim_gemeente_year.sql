-- Municipality × year with the CBS population on 1 January — all inhabitants and youths aged 0–17 —
-- the denominators of the per-1,000 and per-inhabitant KPIs; region membership from dim_gemeente_code.
with observations as (

    select * from {{ ref('int_cbs__observations_current') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

)

select
    population.region_code as gemeente_code,
    population.period_year as year,
    max(population.value) filter (where json_extract_string(population.dimensions, '$.Leeftijd') = '10000')
        as inhabitants,
    max(population.value) filter (where json_extract_string(population.dimensions, '$.Leeftijd') = '70100')
        as youths_0_17,
    coalesce(any_value(gemeente_codes.is_twente), false) as is_twente
from observations as population
left join gemeente_codes on population.region_code = gemeente_codes.gm_code
where population.table_id = '03759ned'
group by population.region_code, population.period_year
