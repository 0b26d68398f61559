-- Forms of care as TMSD delivers them (seed zorgvormen), renamed to English: one row per form of care.
-- The mapping the intermediate models classify trajectories with; dim_care_form publishes it.
with care_forms as (

    select * from {{ ref('zorgvormen') }}

),

renamed as (

    select
        hulpvorm,
        cbs_categorie as cbs_category,
        cbs_subcategorie as cbs_subcategory,
        is_lokaal_team as is_local_team,
        is_uithuisplaatsing as is_out_of_home,
        segment_default
    from care_forms

)

select * from renamed
