-- Referrers (verwijzers) with the referral route they belong to.
select verwijzer as referrer, omschrijving as description, verwijsroute as referral_route
from {{ ref('verwijzers') }}
