-- Every code merged away or split maps only to municipalities that exist today, and its bands of youths
-- (allocation_from–allocation_to) cover 0–1 exactly once, without gap or overlap: no youth counted twice,
-- none lost. Returns the codes that break this.
with former as (

    select gm_code_old as gm_code from {{ ref('gemeente_herindelingen') }}
    union
    select gm_code_old as gm_code from {{ ref('gemeente_splitsingen') }}

),

bands as (

    select
        code.gm_code,
        code.allocation_from,
        code.allocation_to,
        today.gm_code as today_code,
        lag(code.allocation_to) over (partition by code.gm_code order by code.allocation_from) as previous_to
    from {{ ref('dim_gemeente_code') }} as code
    left join {{ ref('dim_gemeente_code') }} as today
        on code.current_gm_code = today.gm_code and today.is_current
    where not code.is_current

)

select
    former.gm_code,
    count(bands.gm_code) as mappings
from former
left join bands on former.gm_code = bands.gm_code
group by former.gm_code
having
    count(bands.gm_code) = 0
    or count(bands.today_code) != count(bands.gm_code)
    or min(bands.allocation_from) != 0
    or max(bands.allocation_to) != 1
    or bool_or(bands.previous_to is not null and bands.previous_to != bands.allocation_from)
