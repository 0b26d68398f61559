-- Every municipality code a source may deliver, with the municipality it belongs to today. Facts join on
-- `gm_code` and group by `current_gm_code`, so history rolls up to today's municipality; each old code
-- maps to exactly one current code, so nothing is counted twice.
with current_codes as (

    select gm_code, naam, true as is_twente from {{ ref('twente_gemeenten') }}
    union
    select distinct gm_code_new, naam_new, false from {{ ref('gemeente_herindelingen') }}
    where gm_code_new not in (select gm_code_old from {{ ref('gemeente_herindelingen') }})

),

merged_codes as (

    select
        lineage.gm_code,
        merger.naam_old as naam,
        lineage.current_gm_code,
        lineage.merged_on as valid_until
    from {{ ref('int_gemeente__code_lineage') }} as lineage
    inner join {{ ref('gemeente_herindelingen') }} as merger on merger.gm_code_old = lineage.gm_code

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
where gm_code not in (select gm_code from merged_codes)

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
inner join current_codes as today on today.gm_code = merged.current_gm_code
