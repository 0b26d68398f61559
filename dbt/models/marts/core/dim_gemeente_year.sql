-- Municipality (as it is today) × year with the CBS population on 1 January — all inhabitants and youths
-- aged 0–17 — the denominators of the per-1,000 and per-inhabitant KPIs. CBS counts a year under the
-- codes of its 1 January: a merged code's people count in full for today's municipality, a split code's
-- in each successor's share, so the denominators roll up as the youths do. NL01 (the Netherlands) stays.
with observations as (

    select * from {{ ref('int_cbs__observations_current') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

),

population as (

    select
        region_code,
        period_year,
        max(value) filter (where json_extract_string(dimensions, '$.Leeftijd') = '10000') as inhabitants,
        max(value) filter (where json_extract_string(dimensions, '$.Leeftijd') = '70100') as youths_0_17
    from observations
    where table_id = '03759ned'
    group by region_code, period_year

)

select
    coalesce(gemeente_codes.current_gm_code, population.region_code) as gemeente_code,
    population.period_year as year,
    round(sum(population.inhabitants * coalesce(gemeente_codes.allocation_share, 1))) as inhabitants,
    round(sum(population.youths_0_17 * coalesce(gemeente_codes.allocation_share, 1))) as youths_0_17,
    coalesce(bool_or(gemeente_codes.is_twente), false) as is_twente
from population
left join gemeente_codes on population.region_code = gemeente_codes.gm_code
group by coalesce(gemeente_codes.current_gm_code, population.region_code), population.period_year
