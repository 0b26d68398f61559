-- Every municipality code that was merged away, followed through later mergers to the code that exists
-- today: one row per old code. A code merged twice (A → B in 2021, B → C in 2023) ends at C.
with recursive mergers as (

    select * from {{ ref('gemeente_herindelingen') }}

),

lineage as (

    select
        gm_code_old as gm_code,
        gm_code_new as current_gm_code,
        ingangsdatum as merged_on,
        1 as merger_steps
    from mergers

    union all

    select
        lineage.gm_code,
        later.gm_code_new as current_gm_code,
        lineage.merged_on,
        lineage.merger_steps + 1 as merger_steps
    from lineage
    inner join mergers as later
        on lineage.current_gm_code = later.gm_code_old
    where lineage.merger_steps < 10

)

select
    gm_code,
    current_gm_code,
    merged_on,
    merger_steps
from lineage
qualify row_number() over (partition by gm_code order by merger_steps desc) = 1
