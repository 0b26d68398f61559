-- Child-protection measures and youth probation, with their legal frame.
with measures as (

    select * from {{ ref('kinderbeschermingsmaatregelen') }}

)

select
    maatregel as measure,
    omschrijving as description,
    kader as legal_frame,
    met_gezagsbeperking as restricts_parental_authority
from measures
