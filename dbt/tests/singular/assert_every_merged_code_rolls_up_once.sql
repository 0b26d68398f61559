-- Every code merged away maps to exactly one municipality that exists today (no double counting, no
-- code lost). Returns the codes that break this.
select merger.gm_code_old, count(code.gm_code) as mappings
from {{ ref('gemeente_herindelingen') }} as merger
left join {{ ref('dim_gemeente_code') }} as code
    on code.gm_code = merger.gm_code_old and not code.is_current
left join {{ ref('dim_gemeente_code') }} as today
    on today.gm_code = code.current_gm_code and today.is_current
group by merger.gm_code_old
having count(code.gm_code) != 1 or count(today.gm_code) != 1
