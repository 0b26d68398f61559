-- KPI education_youth_care: per municipality and quarter, pupils in special education ((V)SO, SBO),
-- thuiszitters and how many of them have youth care, and education-care arrangements whose pupil also
-- has youth care in TMSD that quarter (linked on the pseudonym).
with pupils_current as (

    select * from {{ ref('int_education__pupils_current') }}

),

absence_current as (

    select * from {{ ref('int_education__absence_current') }}

),

arrangements_current as (

    select * from {{ ref('int_education__arrangements_current') }}

),

youth_quarters as (

    select * from {{ ref('int_tmsd__youth_quarters') }}

),

gemeente_codes as (

    select * from {{ ref('dim_gemeente_code') }}

),

pupils as (

    select
        code.current_gm_code as gemeente_code,
        pupil.delivery_period as period_key,
        sum(pupil.pupils) as pupils,
        -- 0, not empty, where the municipality's pupils include none in special education
        coalesce(sum(pupil.pupils) filter (where pupil.school_type in ('SO', 'VSO', 'SBO')), 0)
            as pupils_special_education,
        sum(pupil.pupils_with_tlv) as pupils_with_tlv
    from pupils_current as pupil
    inner join gemeente_codes as code on pupil.gemeente_code = code.gm_code
    group by all

),

absence as (

    select
        code.current_gm_code as gemeente_code,
        absent.delivery_period as period_key,
        sum(absent.pupils) filter (where absent.absence_kind != 'vrijstelling') as thuiszitters,
        sum(absent.pupils_with_youth_care) filter (where absent.absence_kind != 'vrijstelling')
            as thuiszitters_with_youth_care,
        count(*) filter (where absent.pupils is null) as suppressed_cells
    from absence_current as absent
    inner join gemeente_codes as code on absent.gemeente_code = code.gm_code
    group by all

),

arrangements as (

    select
        code.current_gm_code as gemeente_code,
        arrangement.delivery_period as period_key,
        count(distinct arrangement.client_pseudo_id) as pupils_with_arrangement,
        count(distinct arrangement.client_pseudo_id) filter (where care.client_pseudo_id is not null)
            as pupils_with_arrangement_and_youth_care
    from arrangements_current as arrangement
    inner join gemeente_codes as code on arrangement.gemeente_code = code.gm_code
    left join youth_quarters as care
        on
            arrangement.client_pseudo_id = care.client_pseudo_id
            and arrangement.delivery_period = care.period_key
    group by all

)

select
    pupils.gemeente_code,
    pupils.period_key,
    pupils.pupils,
    pupils.pupils_special_education,
    round(100.0 * pupils.pupils_special_education / nullif(pupils.pupils, 0), 2) as special_education_pct,
    pupils.pupils_with_tlv,
    absence.thuiszitters,
    absence.thuiszitters_with_youth_care,
    absence.suppressed_cells as absence_cells_suppressed_at_source,
    arrangements.pupils_with_arrangement,
    arrangements.pupils_with_arrangement_and_youth_care,
    1 as definition_version
from pupils
left join absence using (gemeente_code, period_key)
left join arrangements using (gemeente_code, period_key)
