-- Age bands the region reports by. Facts take the age at the end of the period; "turns 18 within the
-- period" is a flag on the facts, not a band, because it cuts across 12–17 and 18–22.
with age_bands as (

    select * from {{ ref('leeftijdsklassen') }}

)

select
    leeftijdsklasse as age_band,
    min_leeftijd as min_age,
    max_leeftijd as max_age
from age_bands
