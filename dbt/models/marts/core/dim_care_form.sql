-- Forms of care as TMSD delivers them, with the CBS category they count under, whether the local team
-- provides them, whether they are an out-of-home placement, and their usual Samen14 segment.
select
    hulpvorm,
    cbs_categorie as cbs_category,
    cbs_subcategorie as cbs_subcategory,
    is_lokaal_team as is_local_team,
    is_uithuisplaatsing as is_out_of_home,
    segment_default
from {{ ref('zorgvormen') }}
