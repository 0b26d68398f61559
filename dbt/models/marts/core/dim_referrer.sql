-- Referrers (verwijzers) with the referral route they belong to.
with referrers as (

    select * from {{ ref('verwijzers') }}

)

select
    verwijzer as referrer,
    omschrijving as description,
    verwijsroute as referral_route
from referrers
