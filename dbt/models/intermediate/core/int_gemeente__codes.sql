-- Every municipality code a source may deliver — today's 342 and those dissolved since 2019 (seed
-- gemeenten) — with the municipality it belongs to today. Facts join on `gm_code` and on the youth's
-- allocation band (macro in_allocation_band) and group by `current_gm_code`, so history rolls up to
-- today's municipality and nothing is counted twice: a merged code has one row (band 0–1); a split code
-- (Haaren 2021, Winsum 2019) one row per successor, whose bands of the pseudonym's fraction are the
-- successors' address shares (seed gemeente_splitsingen), so each youth goes to exactly one successor.
with gemeenten as (

    select * from {{ ref('gemeenten') }}

),

twente as (

    select * from {{ ref('twente_gemeenten') }}

),

lineage as (

    select * from {{ ref('int_gemeente__code_lineage') }}

),

splits as (

    select * from {{ ref('gemeente_splitsingen') }}

),

split_bands as (

    select
        gm_code_old as gm_code,
        gm_code_new as current_gm_code,
        ingangsdatum as valid_until,
        coalesce(sum(share) over (
            partition by gm_code_old order by gm_code_new
            rows between unbounded preceding and 1 preceding
        ), 0.0) as allocation_from,
        -- the last band ends at exactly 1, whatever the rounding of the shares
        case
            when row_number() over (partition by gm_code_old order by gm_code_new desc) = 1 then 1.0
            else sum(share) over (partition by gm_code_old order by gm_code_new rows unbounded preceding)
        end as allocation_to
    from splits

),

mapped as (

    select
        gm_code,
        current_gm_code,
        valid_until,
        allocation_from,
        allocation_to
    from split_bands

    union all

    select
        gm_code,
        current_gm_code,
        merged_on as valid_until,
        0.0 as allocation_from,
        1.0 as allocation_to
    from lineage
    where gm_code not in (select split_bands.gm_code from split_bands)

    union all

    select
        gm_code,
        gm_code as current_gm_code,
        cast(null as date) as valid_until,
        0.0 as allocation_from,
        1.0 as allocation_to
    from gemeenten
    where opgeheven_op is null

)

select
    mapped.gm_code,
    code.naam,
    mapped.current_gm_code,
    today.naam as current_naam,
    mapped.valid_until,
    mapped.valid_until is null as is_current,
    mapped.current_gm_code in (select twente.gm_code from twente) as is_twente,
    mapped.allocation_from,
    mapped.allocation_to,
    mapped.allocation_to - mapped.allocation_from as allocation_share
from mapped
inner join gemeenten as code on mapped.gm_code = code.gm_code
inner join gemeenten as today on mapped.current_gm_code = today.gm_code
