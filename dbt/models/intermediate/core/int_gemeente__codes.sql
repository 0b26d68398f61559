-- Every municipality code a source may deliver, with the municipality it belongs to today: one row per
-- code. Facts join on `gm_code` and group by `current_gm_code`, so history rolls up to today's
-- municipality; each old code maps to exactly one current code, so nothing is counted twice. The
-- intermediate models that key their rows on today's municipality read this; dim_gemeente_code
-- publishes it as the conformed dimension.
with twente as (

    select * from {{ ref('twente_gemeenten') }}

),

mergers as (

    select * from {{ ref('gemeente_herindelingen') }}

),

lineage as (

    select * from {{ ref('int_gemeente__code_lineage') }}

),

current_codes as (

    select
        gm_code,
        naam,
        true as is_twente
    from twente

    union

    select distinct
        gm_code_new as gm_code,
        naam_new as naam,
        false as is_twente
    from mergers
    where gm_code_new not in (select merged.gm_code_old from mergers as merged)

),

merged_codes as (

    select
        lineage.gm_code,
        merger.naam_old as naam,
        lineage.current_gm_code,
        lineage.merged_on as valid_until
    from lineage
    inner join mergers as merger on lineage.gm_code = merger.gm_code_old

)

select
    gm_code,
    naam,
    gm_code as current_gm_code,
    naam as current_naam,
    cast(null as date) as valid_until,
    true as is_current,
    is_twente
from current_codes
where gm_code not in (select merged_codes.gm_code from merged_codes)

union all

select
    merged.gm_code,
    merged.naam,
    merged.current_gm_code,
    today.naam as current_naam,
    merged.valid_until,
    false as is_current,
    today.is_twente
from merged_codes as merged
inner join current_codes as today on merged.current_gm_code = today.gm_code
