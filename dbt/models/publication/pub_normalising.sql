-- Published: the normalising proxy, small counts hidden. The local-team count goes through the
-- suppression step (groups: the municipalities of one quarter); a small referred count is hidden too.
with suppressed as (

    {{ suppress(ref('fct_normalising'), 'youths_local_team_only', ['local_team_only_per_1000'], ['period_key']) }}

)

select
    * replace (
        case when youths_referred_care between 1 and {{ var('suppression_threshold') }} - 1 then null
            else youths_referred_care end as youths_referred_care,
        case when youths_referred_care between 1 and {{ var('suppression_threshold') }} - 1 then null
            else referred_care_per_1000 end as referred_care_per_1000
    )
from suppressed
