-- Forms of care as TMSD delivers them, with the CBS category they count under, whether the local team
-- provides them, whether they are an out-of-home placement, and their usual Samen14 segment.
with care_forms as (

    select * from {{ ref('stg_reference__care_forms') }}

)

select
    hulpvorm,
    cbs_category,
    cbs_subcategory,
    is_local_team,
    is_out_of_home,
    segment_default
from care_forms
